"""Run the real ingest assets on a temporary landing area and collect what a person would see."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pandas as pd

from pipelines.defs.ingest import raw_party_table, validated_party_table
from pipelines.defs.summaries import party_summary
from pipelines.resources import LandingArea, PartyStore

INGEST = [raw_party_table, validated_party_table]
WITH_SUMMARY = [*INGEST, party_summary]


def resources(tmp_path: Path) -> dict[str, object]:
    return {
        "landing": LandingArea(root=str(tmp_path / "landing")),
        "party_store": PartyStore(root=str(tmp_path / "parties")),
        "io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path / "io")),
    }


def _error_text(error) -> str:
    parts = []
    while error is not None:
        parts.append(error.message)
        error = error.cause
    return "\n".join(parts)


@dataclass
class IngestRun:
    """One materialization of a party's ingest assets and everything it left behind."""

    result: dg.ExecuteInProcessResult
    log: str  # every message of the run's event log, step failures included
    store: PartyStore
    party: str

    @property
    def materialized(self) -> set[str]:
        return {
            e.asset_key.to_user_string() for e in self.result.get_asset_materialization_events()
        }

    @property
    def check(self):
        evaluations = self.result.get_asset_check_evaluations()
        assert len(evaluations) <= 1
        return evaluations[0] if evaluations else None

    def meta(self, asset: str) -> dict:
        (event,) = self.result.asset_materializations_for_node(asset)
        return {k: getattr(v, "value", v) for k, v in event.metadata.items()}

    def table(self, name: str) -> pd.DataFrame | None:
        if not self.store.has_table(self.party, name):
            return None
        return getattr(self.store, f"read_{name}")(self.party)


def run_ingest(
    tmp_path: Path, instance: dg.DagsterInstance, party: str, assets=INGEST
) -> IngestRun:
    """Materialize ``assets`` for ``party`` (raising nothing) and read back its run log."""
    if party not in instance.get_dynamic_partitions("parties"):
        instance.add_dynamic_partitions("parties", [party])
    res = resources(tmp_path)
    result = dg.materialize(
        assets, partition_key=party, instance=instance, resources=res, raise_on_error=False
    )
    lines = []
    for record in instance.all_logs(result.run_id):
        lines.append(record.user_message or "")
        event = record.dagster_event
        if event is not None and event.is_step_failure:
            lines.append(_error_text(event.step_failure_data.error))
    return IngestRun(result, "\n".join(lines), res["party_store"], party)
