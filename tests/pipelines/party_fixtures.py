"""Tiny landing areas built from slices of the real Adult table, for the pipeline tests."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from pipelines.resources import LandingArea, PartyStore

ADULT = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "adult.csv"
needs_adult = pytest.mark.skipif(
    not ADULT.is_file(), reason="shared/datasets/adult.csv not available"
)


@lru_cache(maxsize=1)
def _adult() -> pd.DataFrame:
    return pd.read_csv(ADULT, nrows=2000)


def adult_slice(start: int, stop: int) -> pd.DataFrame:
    """Rows ``start:stop`` of adult.csv (a fresh copy)."""
    return _adult().iloc[start:stop].reset_index(drop=True).copy()


def write_party(landing: Path, party: str, df: pd.DataFrame, name: str | None = None) -> Path:
    folder = landing / party
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"{party}.csv")
    if path.suffix == ".parquet":
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False)
    return path


def snapshot(landing: Path) -> dict[str, tuple[bytes, int]]:
    """Bytes and mtime of every file under ``landing``."""
    return {
        str(p.relative_to(landing)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(landing.rglob("*"))
        if p.is_file()
    }


def resources(tmp_path: Path) -> dict[str, object]:
    return {
        "landing": LandingArea(root=str(tmp_path / "landing")),
        "party_store": PartyStore(root=str(tmp_path / "parties")),
        "io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path / "io")),
    }


#: Mixture modes of the tiny models of the tests (the summaries' and so the training's).
TEST_MAX_MODES = 3


def summary_run_config(max_modes: int = TEST_MAX_MODES) -> dict:
    return {"ops": {"party_summary": {"config": {"max_modes": max_modes, "seed": 0}}}}


def summarize_parties(instance: dg.DagsterInstance, resources: dict, parties,
                      max_modes: int = TEST_MAX_MODES) -> None:
    """Register ``parties`` and materialize each one's ``party_summary`` from its stored table."""
    from pipelines.defs.summaries import party_summary

    known = set(instance.get_dynamic_partitions("parties"))
    instance.add_dynamic_partitions("parties", [p for p in parties if p not in known])
    for party in parties:
        assert dg.materialize([party_summary], partition_key=party, instance=instance,
                              resources=resources, run_config=summary_run_config(max_modes)
                              ).success


def direct_encoding(store: PartyStore, parties, max_modes: int = TEST_MAX_MODES) -> dict:
    """The ``global_encoder`` value of ``parties``, by direct invocation of the two assets."""
    from pipelines.defs.summaries import global_encoder, party_summary

    summaries = {
        party: party_summary(
            dg.build_asset_context(partition_key=party, resources={"party_store": store}),
            config={"max_modes": max_modes, "seed": 0},
        ).value
        for party in parties
    }
    return global_encoder(dg.build_asset_context(partition_key="v1"),
                          party_summary=summaries).value
