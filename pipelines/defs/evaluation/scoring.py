"""The evaluation asset's inputs (real test set, pooled real rows, seeded caps) and the scoring
itself (dagan_core's evaluation report and per-column fidelity)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipelines.resources.party_store import PartyStore
from pipelines.threads import compute_threads, resolve_threads


def read_test_set(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    """The real held-out table, restricted to the training columns.

    Raises:
        FileNotFoundError / ValueError: naming the file and the missing columns.
    """
    if not path.is_file():
        raise FileNotFoundError(f"real test set not found at {path} (set DAGAN_TEST_SET)")
    frame = pd.read_parquet(path) if path.suffix in (".parquet", ".pq") else pd.read_csv(path)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: the test set lacks the training columns {missing}")
    return frame[list(columns)]


def pooled_real_rows(party_store: PartyStore, parties: Sequence[str]) -> pd.DataFrame:
    """Every party's validated rows with a ``party`` column (evaluation-only read, see asset)."""
    return pd.concat(
        [party_store.read_validated(p).assign(party=p) for p in parties], ignore_index=True
    )


def held_out_halves(test: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The held-out table split in two seeded halves: (real reference, test).

    With remote parties no party row reaches the coordinator, so the real reference of TRTR,
    similarity and distance to closest record is one half of the held-out table, and the test
    set the other half.
    """
    order = np.random.default_rng(seed).permutation(len(test))
    half = len(test) // 2
    if half < 1:
        raise ValueError(f"the held-out table has {len(test)} row(s); remote-party evaluation "
                         "splits it in two")
    return (test.iloc[np.sort(order[:half])].reset_index(drop=True),
            test.iloc[np.sort(order[half:])].reset_index(drop=True))


def cap_rows(frame: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    """A seeded subsample of at most ``max_rows`` rows (0 = all), row order kept."""
    if not max_rows or len(frame) <= max_rows:
        return frame
    rng = np.random.default_rng(seed)
    return frame.iloc[np.sort(rng.choice(len(frame), size=max_rows, replace=False))]


def score(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    test: pd.DataFrame,
    record: Mapping[str, Any],
    config: Any,
) -> tuple[Any, pd.DataFrame]:
    """dagan_core's evaluation report and per-column fidelity (inputs capped per config)."""
    from dagan_core import metrics  # scikit-learn: imported at run time only

    label, discrete, seed, cap = (
        record["label"], record["discrete_columns"], config.seed, config.max_rows
    )
    with compute_threads(resolve_threads(config.threads)):
        report = metrics.evaluate(
            cap_rows(real, cap, seed), cap_rows(synthetic, cap, seed), cap_rows(test, cap, seed),
            label, discrete, models=config.models, seed=seed, per_party=config.per_party,
            detection=config.detection,
        )
        return report, metrics.column_fidelity(real, synthetic, discrete)
