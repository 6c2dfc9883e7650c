"""What a party reports about itself when the coordinator asks (:class:`~.control.StatusRequest`).

Aggregates only, never a row: the party's ingest counts and contract verdict as its host was
given them, and, when the coordinator presents the party's contract fingerprint and asks for a
summary, the party's column declaration, its summary under its own schema (as the pipeline's
``party_summary`` computes it from a validated table) and its imbalance profile (counts and
shares). A coordinator of another contract learns the party's fingerprint and counts, nothing
about its columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from dagan_core.data.schema import validate_table
from dagan_core.data.summary import summarize_party
from dagan_core.errors import DAGANError
from dagan_core.federation.remote import control as c
from dagan_core.federation.remote.errors import SetupRefused
from dagan_core.prepare import agree_schema
from dagan_core.profiling import profile_party

#: the report entries a party may send (counts, the verdict and per-rule row counts)
REPORT_KEYS = ("rows", "rows_read", "rows_validated", "rows_quarantined", "contract_passed",
               "rule_failures")


def checked_report(report: Mapping[str, Any] | None, rows: int) -> dict[str, Any]:
    """The party's report restricted to :data:`REPORT_KEYS`, with its table's row count.

    Raises:
        DAGANError: an entry outside :data:`REPORT_KEYS`, or rule failures that are not counts.
    """
    report = dict(report or {})
    extra = sorted(set(report) - set(REPORT_KEYS))
    if extra:
        raise DAGANError(f"a party report holds counts and the verdict only; not {extra}")
    failures = report.get("rule_failures") or {}
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in failures.values()):
        raise DAGANError("rule_failures must map each rule to a row count")
    return {**report, "rows": int(rows)}


def party_status(name: str, table: pd.DataFrame, label: str,
                 declaration: Mapping[str, tuple[str, str]], fingerprint: str,
                 report: Mapping[str, Any], msg: c.StatusRequest) -> c.PartyStatus:
    """The party's answer to ``msg`` (see module docstring)."""
    if msg.protocol != c.PROTOCOL:
        raise SetupRefused(f"the party speaks set-up protocol {c.PROTOCOL}, the coordinator "
                           f"{msg.protocol}")
    base = dict(protocol=c.PROTOCOL, party=name, contract_fingerprint=fingerprint,
                report=dict(report))
    if msg.contract_fingerprint != fingerprint or msg.max_modes < 1:
        return c.PartyStatus(**base, declaration=None, summary=None, profile=None)
    schema = agree_schema({name: dict(declaration)}, label)
    try:
        checked = validate_table(name, table, schema)
    except DAGANError as exc:
        raise SetupRefused(str(exc)) from None
    summary = summarize_party(name, checked, schema, msg.max_modes, msg.seed)
    profile = profile_party(table, label, discrete_columns=list(schema.discrete_columns),
                            party=name)
    return c.PartyStatus(**base, declaration={k: list(v) for k, v in declaration.items()},
                         summary=summary.to_dict(), profile=profile.to_dict())
