"""Which parties can take part in training, and why the others cannot.

A party whose validated table has fewer rows than a critic needs (every row quarantined, say) or
a column without a single value cannot be summarised or trained on. ``party_summary`` records
such a party as *left out*, with the reason, instead of failing; ``global_encoder`` builds the
encoder from the other parties and lists the left-out ones; ``dagan_model`` applies its
``empty_party`` policy to them (train without them, with a warning, or refuse to train).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipelines.chunked_tables import ChunkedTable
from pipelines.resources.party_store import QUARANTINE, PartyStore

#: Key of a party summary value that marks the party as left out (its value: the reason).
LEFT_OUT = "left_out"


def table_exclusion(party: str, store: PartyStore, table: ChunkedTable) -> str | None:
    """Why this party's validated ``table`` cannot take part in training, or None if it can.

    One pass over the table's chunks; the reason says how many rows were quarantined.
    """
    from dagan_core.prepare import exclusion_reason

    valued: set[str] = set()
    for chunk in table.chunks():
        valued.update(str(c) for c in chunk.columns if chunk[c].notna().any())
    rows = len(table)
    empty = [c for c in table.columns if c not in valued] if rows else []
    reason = exclusion_reason(rows, empty)
    if reason is None:
        return None
    quarantined = _quarantined_rows(party, store)
    if quarantined:
        reason += f" ({quarantined} of its {rows + quarantined} rows are in quarantine)"
    return reason


def _quarantined_rows(party: str, store: PartyStore) -> int:
    if not store.has_table(party, QUARANTINE):
        return 0
    return len(store.open(party, QUARANTINE))


def left_out_summary(party: str, reason: str, rows: int, max_modes: int, seed: int
                     ) -> dict[str, Any]:
    """The summary value of a party that cannot take part: its name, rows and the reason."""
    return {"party": party, LEFT_OUT: reason, "rows": rows, "max_modes": max_modes,
            "seed": seed}


def what_to_do(party: str) -> str:
    """The instruction for an operator whose party was left out."""
    return (f"read the quarantine table of party {party!r} (the validated_party_table check "
            "lists every row's reason), correct its landing files, rematerialize "
            f"validated_party_table and party_summary for {party!r} (ingest_job), then "
            "global_encoder")


def split_summaries(summaries: Mapping[str, Mapping[str, Any]], registered: list[str]
                    ) -> tuple[dict[str, Mapping[str, Any]], dict[str, str]]:
    """(summaries of the parties that take part, left-out party -> reason).

    A registered party with no summary at all (its table never met the contract) is left out
    too, with that reason.
    """
    usable = {p: s for p, s in summaries.items() if LEFT_OUT not in s}
    left_out = {p: str(s[LEFT_OUT]) for p, s in summaries.items() if LEFT_OUT in s}
    for party in registered:
        if party not in summaries:
            left_out[party] = ("no party_summary: its table never met the contract or was "
                               "never ingested")
    return usable, dict(sorted(left_out.items()))
