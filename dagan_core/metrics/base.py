"""Shared pieces of the metrics: the metric record, known directions and column handling."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from dagan_core.errors import ConfigError, InvalidDataError

logger = logging.getLogger(__name__)

Direction = Literal["maximize", "minimize"]

#: Whether a larger value of a known metric is better ("maximize") or worse ("minimize").
METRIC_DIRECTIONS: dict[str, Direction] = {
    "macro_f1": "maximize",
    "minority_f1": "maximize",
    "balanced_accuracy": "maximize",
    "roc_auc": "maximize",
    "tstr_trtr_ratio": "maximize",
    "jsd_mean": "minimize",
    "wasserstein_mean": "minimize",
    "corr_frobenius": "minimize",
    "class_mix_jsd_mean": "minimize",
    "dcr_synth_p5": "maximize",
    "dcr_holdout_p5": "maximize",
    "dcr_ratio": "maximize",
    "exact_copy_rate_synth": "minimize",
    "exact_copy_rate_holdout": "minimize",
    "mia_auc": "minimize",
}


@dataclass(frozen=True)
class MetricResult:
    """One named number and which way is better.

    Attributes:
        name: the metric's name (e.g. ``macro_f1``).
        value: its value (may be NaN when undefined).
        direction: ``"maximize"`` or ``"minimize"``.
    """

    name: str
    value: float
    direction: Direction = "maximize"

    def __post_init__(self) -> None:
        if not self.name:
            raise ConfigError("a metric needs a non-empty name")
        if self.direction not in ("maximize", "minimize"):
            raise ConfigError(f"metric direction {self.direction!r} is invalid: "
                              "must be 'maximize' or 'minimize'")
        object.__setattr__(self, "value", float(self.value))

    @classmethod
    def known(cls, name: str, value: float) -> MetricResult:
        """A record whose direction is looked up in :data:`METRIC_DIRECTIONS`."""
        if name not in METRIC_DIRECTIONS:
            raise ConfigError(f"unknown metric {name!r}; known: {sorted(METRIC_DIRECTIONS)}")
        return cls(name, value, METRIC_DIRECTIONS[name])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return asdict(self)


def safe_mean(values: Sequence[float]) -> float:
    """Mean of the finite values, NaN (without a warning) when there is none."""
    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    return float(arr.mean()) if arr.size else float("nan")


def category_strings(values: pd.Series) -> np.ndarray:
    """Values as strings for category comparisons: integral numbers lose their ``.0`` (so 1,
    1.0 and "1" agree) and missing values become ``"nan"``."""
    out = values.astype(str).to_numpy(dtype=object)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        num = values.to_numpy(dtype=float)
        finite = np.isfinite(num)
        if np.all(num[finite] == np.round(num[finite])):
            out[finite] = num[finite].astype(np.int64).astype(str)
        out[np.isnan(num)] = "nan"
    return out


def check_frame(df: object, what: str, columns: Sequence[str] = ()) -> pd.DataFrame:
    """Raise :class:`InvalidDataError` unless ``df`` is a non-empty frame holding ``columns``."""
    if not isinstance(df, pd.DataFrame) or df.empty:
        raise InvalidDataError(f"the {what} table is empty")
    for col in columns:
        if col not in df.columns:
            raise InvalidDataError(f"column is missing from the {what} table", column=col)
    return df


def split_columns(
    frames: Sequence[pd.DataFrame],
    discrete_columns: Sequence[str],
    exclude: Sequence[str | None] = (),
) -> tuple[list[str], list[str]]:
    """Columns shared by all ``frames`` (order of the first), split into discrete / continuous.

    A shared column is discrete when listed in ``discrete_columns`` or when it is not numeric in
    every frame; columns in ``exclude`` are skipped. Unshared columns are logged and ignored.
    """
    skip = {c for c in exclude if c is not None}
    shared = [c for c in frames[0].columns if all(c in f.columns for f in frames[1:])]
    dropped = sorted({str(c) for f in frames for c in f.columns} - {str(c) for c in shared})
    if dropped:
        logger.debug("columns not shared by every table are ignored: %s", dropped)
    listed = set(discrete_columns)
    discrete, continuous = [], []
    for col in shared:
        if col in skip:
            continue
        is_discrete = col in listed or not _numeric_everywhere(frames, col)
        (discrete if is_discrete else continuous).append(col)
    return discrete, continuous


def _numeric_everywhere(frames: Sequence[pd.DataFrame], column: str) -> bool:
    """The column is numeric (and not boolean) in every frame."""
    return all(pd.api.types.is_numeric_dtype(f[column]) and
               not pd.api.types.is_bool_dtype(f[column]) for f in frames)
