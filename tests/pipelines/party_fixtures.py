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
