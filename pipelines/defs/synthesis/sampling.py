"""Glue of the synthesis asset: row allocation over parties and class-mix tables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd


def allocate_rows(sizes: Mapping[str, int], n: int) -> dict[str, int]:
    """Split ``n`` rows over parties in proportion to their sizes (largest remainder, exact sum)."""
    total = sum(sizes.values())
    if n < 0 or total <= 0:
        raise ValueError(f"cannot allocate {n} rows over party sizes {dict(sizes)}")
    quotas = {p: n * s / total for p, s in sizes.items()}
    out = {p: int(np.floor(q)) for p, q in quotas.items()}
    by_remainder = sorted(sizes, key=lambda p: (-(quotas[p] - out[p]), p))
    for party in by_remainder[: n - sum(out.values())]:
        out[party] += 1
    return out


def sample_parties(synth: Any, allocation: Mapping[str, int], seed: int) -> pd.DataFrame:
    """``allocation[p]`` rows for each party ``p``, each party with its own derived seed."""
    frames = []
    for index, (party, n) in enumerate(sorted(allocation.items())):
        if n > 0:
            party_seed = int(np.random.SeedSequence([seed, index]).generate_state(1)[0])
            frames.append(synth.sample(n, party=party, seed=party_seed))
    return pd.concat(frames, ignore_index=True)


def real_class_mix(record: Mapping[str, Any]) -> pd.DataFrame:
    """``party, label_value, n`` from a training record's class counts."""
    rows = [
        (party, value, int(n))
        for party, info in record["parties"].items()
        for value, n in info["class_counts"].items()
    ]
    return pd.DataFrame(rows, columns=["party", "label_value", "n"])


def synthetic_class_mix(rows: pd.DataFrame, label: str) -> pd.DataFrame:
    """``party, label_value, n`` counted on synthetic rows."""
    counts = rows.groupby(["party", rows[label].astype(str)]).size()
    return counts.rename("n").rename_axis(["party", "label_value"]).reset_index()


def class_mix_comparison(real: pd.DataFrame, synthetic: pd.DataFrame) -> pd.DataFrame:
    """Real vs synthetic counts and shares per (party, label value)."""
    merged = real.merge(
        synthetic, on=["party", "label_value"], how="outer", suffixes=("_real", "_synthetic")
    )
    merged = merged.fillna({"n_real": 0, "n_synthetic": 0}).astype(
        {"n_real": int, "n_synthetic": int}
    )
    for side in ("real", "synthetic"):
        totals = merged.groupby("party")[f"n_{side}"].transform("sum")
        merged[f"{side}_share"] = (merged[f"n_{side}"] / totals.where(totals > 0)).fillna(0.0)
    merged = merged.rename(columns={"n_real": "real_n", "n_synthetic": "synthetic_n"})
    return merged.sort_values(["party", "label_value"]).reset_index(drop=True)[
        ["party", "label_value", "real_n", "synthetic_n", "real_share", "synthetic_share"]
    ]
