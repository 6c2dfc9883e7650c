"""A party's own ingest, on its own host: its landing files through the pipeline's ingest
assets (the same contract, rules and quarantine as the coordinator's pipeline runs), into its
own party store. Nothing about a single row leaves: the report holds counts and the verdict.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class PartyIngestError(RuntimeError):
    """The party's files could not be ingested (the message names party and reason)."""


@dataclass(frozen=True)
class IngestReport:
    """What a party's ingest did: counts and the contract verdict, never a row."""

    party: str
    rows_read: int
    rows_validated: int
    rows_quarantined: int
    contract_passed: bool
    contract_description: str
    rule_failures: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dict(self.__dict__)

    def shared(self) -> dict[str, Any]:
        """What the party tells the coordinator: counts and the verdict. Not the description,
        which may quote a rejected value."""
        return {"rows_read": self.rows_read, "rows_validated": self.rows_validated,
                "rows_quarantined": self.rows_quarantined,
                "contract_passed": self.contract_passed,
                "rule_failures": dict(self.rule_failures)}


def _failure_text(result: Any) -> str:
    """``<step>: <the step's own error>`` on one line, for each failed step."""
    lines = []
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            while error is not None and error.cause is not None:  # out of Dagster's wrappers
                error = error.cause
            text = " ".join(error.message.split()) if error is not None else "failed"
            lines.append(f"{event.step_key}: {text}")
    return "; ".join(lines)


def ingest_party(party: str, landing_dir: str | Path, store_dir: str | Path) -> IngestReport:
    """Materialize ``raw_party_table`` and ``validated_party_table`` for ``party``, reading
    ``<landing_dir>/<party>/`` and writing ``<store_dir>/<party>/``.

    Raises:
        PartyIngestError: the folder is missing, or the table breaks the contract's schema
            rules (the message carries the contract's verdict).
    """
    import dagster as dg

    from pipelines.console import progress_logger
    from pipelines.defs.ingest import raw_party_table, validated_party_table
    from pipelines.partitions import party_partitions
    from pipelines.resources import LandingArea, PartyStore

    folder = Path(landing_dir) / party
    if not folder.is_dir():
        raise PartyIngestError(f"party {party!r}: no landing folder {folder}")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    resources = {"landing": LandingArea(root=str(landing_dir)),
                 "party_store": PartyStore(root=str(store_dir))}
    # The pipeline's warnings, one line each; a failure is reported once, by the caller.
    job = dg.Definitions(
        assets=[raw_party_table, validated_party_table], resources=resources,
        jobs=[dg.define_asset_job("party_ingest")],
        loggers={"console": progress_logger()},
    ).resolve_job_def("party_ingest")
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(party_partitions.name, [party])
        result = job.execute_in_process(
            partition_key=party, instance=instance, raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
    checks = result.get_asset_check_evaluations()
    verdict = checks[0] if checks else None
    description = (verdict.description if verdict is not None else "") or ""
    if not result.success:
        raise PartyIngestError(f"party {party!r}: ingest failed: "
                               f"{description or _failure_text(result)}")
    (event,) = result.asset_materializations_for_node("validated_party_table")
    meta = event.metadata
    return IngestReport(
        party=party,
        rows_read=int(meta["rows_read"].value),
        rows_validated=int(meta["rows_validated"].value),
        rows_quarantined=int(meta["rows_quarantined"].value),
        contract_passed=bool(verdict is not None and verdict.passed),
        contract_description=description,
        rule_failures=_rule_failures(verdict),
    )


def _rule_failures(verdict: Any) -> dict[str, int]:
    """Rows each (column, rule) rejected, from the contract check's metadata."""
    entry = None if verdict is None else verdict.metadata.get("row_rule_failures")
    value = getattr(entry, "value", None) or {}
    return {str(k): int(v) for k, v in value.items()}
