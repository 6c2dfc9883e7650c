"""The tidy long frame every profile converts to, and the divergence of two count vectors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon

FRAME_COLUMNS = ("party", "kind", "column", "value", "metric")


def frame(rows: Iterable[tuple[Any, ...]]) -> pd.DataFrame:
    """Rows of ``FRAME_COLUMNS`` as a frame, the metric as floats."""
    out = pd.DataFrame(list(rows), columns=list(FRAME_COLUMNS))
    out["metric"] = out["metric"].astype(float)
    return out


def js_divergence(p: Sequence[float], q: Sequence[float]) -> float:
    """Jensen-Shannon divergence (base 2, in [0, 1]) of two count or probability vectors.

    It is the square of scipy's Jensen-Shannon *distance*; tiny negative rounding is clipped to 0.
    """
    p_arr = np.asarray(p, dtype=float)
    q_arr = np.asarray(q, dtype=float)
    if p_arr.sum() <= 0 or q_arr.sum() <= 0:
        return float("nan")
    with np.errstate(invalid="ignore"):
        dist = float(jensenshannon(p_arr, q_arr, base=2))
    return 0.0 if np.isnan(dist) else min(1.0, dist**2)


def ordered_counts(counts: Mapping[str, int]) -> dict[str, int]:
    """Counts sorted by decreasing count, ties by class name."""
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


