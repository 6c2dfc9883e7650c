"""The real-vs-synthetic column distributions shown on each synthesis materialization.

The real side of every comparison comes from the party summaries saved with the checkpoint
(category counts and per-party Gaussian mixtures, the aggregates each party already shared to
build the encoder); the synthesis step never reads a party's rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from pipelines.plots import ColumnComparison


def plotted_columns(
    kinds: Mapping[str, str], label: str, wanted: Sequence[str] = ()
) -> list[str]:
    """The columns to plot: ``wanted`` if given (unknown names raise), else every column other
    than the label (whose real vs synthetic mix is the class-mix plot), continuous ones first,
    each group in schema order.

    Raises:
        ValueError: naming an asked-for column the model does not have.
    """
    if wanted:
        unknown = [c for c in wanted if c not in kinds]
        if unknown:
            raise ValueError(f"plot_columns {unknown} are not model columns ({', '.join(kinds)})")
        return list(wanted)
    features = [c for c in kinds if c != label]
    continuous = [c for c in features if kinds[c] == "continuous"]
    discrete = [c for c in features if kinds[c] != "continuous"]
    return continuous + discrete


def mixture_density(
    mixtures: Sequence[tuple[Mapping[str, Any], int]], points: int = 200
) -> tuple[np.ndarray, np.ndarray]:
    """Density of the pooled real values: the parties' Gaussian mixtures weighted by row count.

    ``mixtures`` holds ``(mixture dict with weights, means, stds, minimum, maximum, rows)``.
    """
    low = min(float(m["minimum"]) for m, _ in mixtures)
    high = max(float(m["maximum"]) for m, _ in mixtures)
    xs = np.linspace(low, high if high > low else low + 1.0, points)
    total = float(sum(n for _, n in mixtures)) or 1.0
    density = np.zeros_like(xs)
    for mix, n in mixtures:
        for w, mu, sd in zip(mix["weights"], mix["means"], mix["stds"], strict=True):
            sd = max(float(sd), 1e-9)
            density += (n / total) * float(w) * np.exp(-0.5 * ((xs - mu) / sd) ** 2) / (
                sd * np.sqrt(2 * np.pi)
            )
    return xs, density


def column_comparisons(
    summaries: Mapping[str, Any],
    kinds: Mapping[str, str],
    rows: pd.DataFrame,
    columns: Sequence[str],
) -> list[ColumnComparison]:
    """Real (from the party summaries) vs synthetic distribution of each of ``columns``.

    ``summaries`` maps party -> its summary as a dict (``PartySummary.to_dict()``).
    """
    out = []
    for column in columns:
        if kinds[column] == "continuous":
            mixtures = [(s["mixtures"][column], int(s["n_rows"])) for s in summaries.values()]
            out.append(ColumnComparison(
                column, "continuous",
                synthetic_values=pd.to_numeric(rows[column], errors="coerce").to_numpy(float),
                real_density=mixture_density(mixtures),
                real_source="real (parties' mixture summaries)",
            ))
        else:
            counts: dict[str, int] = {}
            for summary in summaries.values():
                for value, n in summary["category_counts"][column]:
                    counts[str(value)] = counts.get(str(value), 0) + int(n)
            total = sum(counts.values()) or 1
            synthetic = rows[column].astype(str).value_counts(normalize=True)
            out.append(ColumnComparison(
                column, "discrete",
                real={k: v / total for k, v in counts.items()},
                synthetic={str(k): float(v) for k, v in synthetic.items()},
                real_source="real (parties' category counts)",
            ))
    return out
