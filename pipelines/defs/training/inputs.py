"""What the model version trains on: the encoder and summaries of ``global_encoder``, the
parties' validated tables, the mixture modes the summaries were made with, and which parties
are left out (the ``empty_party`` policy)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
import pandas as pd

from pipelines.defs.summaries.participation import what_to_do
from pipelines.resources.party_store import PartyStore

#: ``empty_party`` policies: train without a party that cannot take part, or refuse to train.
EXCLUDE, BLOCK = "exclude", "block"


def summary_max_modes(configured: int | None, encoding: Mapping[str, Any]) -> int:
    """The mixture modes of the version's summaries; a configured value must agree with them.

    Raises:
        dg.Failure: if ``max_modes`` is configured and differs from the summaries'.
    """
    used = int(encoding["max_modes"])
    if configured is not None and configured != used:
        raise dg.Failure(
            f"max_modes={configured} is configured, but the party summaries of this version were "
            f"made with max_modes={used}: set party_summary's max_modes to {configured} and "
            "rematerialize the summaries and global_encoder, or leave max_modes unset here"
        )
    return used


def load_party_tables(party_store: PartyStore, parties: Sequence[str]) -> dict[str, pd.DataFrame]:
    """Each party's validated rows, read party by party (they go only to that party's trainer)."""
    return {party: party_store.read_validated(party) for party in parties}


def shared_encoding(encoding: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The ``TableEncoder`` and the party -> ``PartySummary`` mapping that ``fit`` takes."""
    from dagan_core.data.encoder import TableEncoder
    from dagan_core.data.summary import PartySummary

    encoder = TableEncoder.from_dict(encoding["encoder"])
    summaries = {p: PartySummary.from_dict(encoding["summaries"][p]) for p in encoding["parties"]}
    return encoder, summaries


def participating_tables(party_store: PartyStore, encoding: Mapping[str, Any]
                         ) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """(validated tables of the parties that take part, left-out party -> reason).

    The parties ``global_encoder`` left out keep its reason; a party of the encoder whose
    validated table has since lost every row (or a column's last value) is left out too.
    """
    from dagan_core.prepare import empty_columns, exclusion_reason

    left_out = dict(encoding.get("left_out", {}))
    tables = {}
    for party, df in load_party_tables(party_store, encoding["parties"]).items():
        reason = exclusion_reason(len(df), empty_columns(df))
        if reason is None:
            tables[party] = df
        else:
            left_out[party] = f"its validated table changed after global_encoder: {reason}"
    return tables, dict(sorted(left_out.items()))


def apply_empty_party_policy(policy: str, left_out: Mapping[str, str],
                             tables: Mapping[str, pd.DataFrame], log: Any) -> None:
    """Refuse to train (``block``) or warn for each left-out party (``exclude``).

    Raises:
        dg.Failure: under ``block`` when a party is left out, naming it, the reason and what to
            do; under ``exclude`` when no party is left to train.
    """
    if left_out and policy == BLOCK:
        raise dg.Failure("empty_party=block: training refused because " + "; ".join(
            f"party {p!r} cannot take part: {r}. To include it, {what_to_do(p)}"
            for p, r in left_out.items())
            + ". To train the other parties without it, set empty_party: exclude on dagan_model")
    for party, reason in left_out.items():
        log.warning(f"training without party {party}: {reason}; to include it, "
                    f"{what_to_do(party)}")
    if not tables:
        raise dg.Failure("no party can take part in training: " + "; ".join(
            f"party {p!r}: {r}" for p, r in left_out.items()))
