"""Label counts per party, real and synthetic, and their comparison.

The real counts come from the training record saved with the model version (each party's class
counts, reported when it was trained); the synthetic counts are counted on the version's rows.
Both the synthesis asset (its class-mix plot) and the evaluation asset (the ``metrics`` class-mix
tables) use them. ``participation`` says which parties the release mix covers and which were left
out of training, with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd


def real_class_mix(record: Mapping[str, Any]) -> pd.DataFrame:
    """``party, label_value, n`` from a training record's class counts."""
    rows = [
        (party, value, int(n))
        for party, info in record["parties"].items()
        for value, n in info["class_counts"].items()
    ]
    return pd.DataFrame(rows, columns=["party", "label_value", "n"])


def participation(record: Mapping[str, Any]) -> pd.DataFrame:
    """``party, took_part, rows, reason``: every party of a training record, the ones that
    trained (their rows) and the ones left out (the reason; records made before parties could
    be left out list none)."""
    rows = [(party, True, int(info["rows"]), "") for party, info in record["parties"].items()]
    rows += [(party, False, 0, str(reason))
             for party, reason in record.get("left_out", {}).items()]
    return pd.DataFrame(rows, columns=["party", "took_part", "rows", "reason"])


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
