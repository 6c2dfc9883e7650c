"""Party summaries: everything a party reveals to build the shared encoder.

A :class:`PartySummary` holds, and only holds:
- the party's row count;
- for every discrete column, the count of each category in the party's table;
- for every continuous column, a Bayesian Gaussian mixture fitted to the party's values
  (at most ``max_modes`` weights, means and standard deviations) and the column's minimum and
  maximum (used to clip decoded values to the range seen anywhere).
No row, and no value other than these aggregates, leaves the party.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dagan_core.data.schema import CONTINUOUS, TableSchema

MAX_FIT_VALUES = 2000
MIN_MODE_WEIGHT = 0.005


@dataclass(frozen=True)
class Mixture:
    """A 1-D Gaussian mixture plus the observed range."""

    weights: tuple[float, ...]
    means: tuple[float, ...]
    stds: tuple[float, ...]
    minimum: float
    maximum: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Mixture:
        """Inverse of :meth:`to_dict`."""
        return cls(tuple(d["weights"]), tuple(d["means"]), tuple(d["stds"]),
                   float(d["minimum"]), float(d["maximum"]))


@dataclass(frozen=True)
class PartySummary:
    """Aggregates one party shares (see module docstring for the exact content)."""

    party: str
    n_rows: int
    category_counts: dict[str, list[tuple[Any, int]]]
    mixtures: dict[str, Mixture]

    def counts(self, column: str) -> dict[Any, int]:
        """Category -> count for one discrete column."""
        return dict(self.category_counts[column])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "party": self.party,
            "n_rows": self.n_rows,
            "category_counts": {c: [[v, n] for v, n in pairs]
                                for c, pairs in self.category_counts.items()},
            "mixtures": {c: m.to_dict() for c, m in self.mixtures.items()},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PartySummary:
        """Inverse of :meth:`to_dict`."""
        return cls(
            d["party"], int(d["n_rows"]),
            {c: [(v, int(n)) for v, n in pairs] for c, pairs in d["category_counts"].items()},
            {c: Mixture.from_dict(m) for c, m in d["mixtures"].items()},
        )


def category_key(value: Any) -> Any:
    """Normalise a category value to a plain, JSON-safe Python scalar (None for missing)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def sort_categories(values: list[Any]) -> list[Any]:
    """Deterministic order of categories: by type name, then text; missing last."""
    return sorted(values, key=lambda v: (v is None, type(v).__name__, str(v)))


def fit_mixture(values: np.ndarray, max_modes: int, seed: int) -> Mixture:
    """Fit a variational Gaussian mixture with at most ``max_modes`` active modes."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import BayesianGaussianMixture

    values = np.asarray(values, dtype=np.float64)
    lo, hi = float(values.min()), float(values.max())
    floor = max((hi - lo) * 1e-3, 1e-6)
    n_unique = len(np.unique(values[: MAX_FIT_VALUES * 5]))
    if n_unique <= 1:
        return Mixture((1.0,), (lo,), (max(floor, 1e-3),), lo, hi)
    rng = np.random.default_rng(seed)
    if len(values) > MAX_FIT_VALUES:
        values = rng.choice(values, MAX_FIT_VALUES, replace=False)
    k = int(min(max_modes, n_unique))
    gm = BayesianGaussianMixture(
        n_components=k, weight_concentration_prior_type="dirichlet_process",
        weight_concentration_prior=1e-3, max_iter=100, n_init=1, random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm.fit(values.reshape(-1, 1))
    keep = gm.weights_ > MIN_MODE_WEIGHT
    weights = gm.weights_[keep] / gm.weights_[keep].sum()
    means = gm.means_.reshape(-1)[keep]
    stds = np.sqrt(gm.covariances_.reshape(-1)[keep]).clip(min=floor)
    order = np.argsort(means)
    return Mixture(tuple(map(float, weights[order])), tuple(map(float, means[order])),
                   tuple(map(float, stds[order])), lo, hi)


def summarize_party(
    party: str, df: pd.DataFrame, schema: TableSchema, max_modes: int, seed: int
) -> PartySummary:
    """Compute a party's summary from its validated table (runs at the party)."""
    counts: dict[str, list[tuple[Any, int]]] = {}
    mixtures: dict[str, Mixture] = {}
    for i, spec in enumerate(schema.columns):
        s = df[spec.name]
        if spec.kind == CONTINUOUS:
            mixtures[spec.name] = fit_mixture(s.to_numpy(np.float64), max_modes, seed + i)
        else:
            vc = s.map(category_key).value_counts(dropna=False)
            counts[spec.name] = [(category_key(v), int(n)) for v, n in vc.items()]
    return PartySummary(party, len(df), counts, mixtures)


def merge_mixtures(
    party_mixtures: list[tuple[Mixture, int]], max_modes: int, seed: int, draws: int = 20000
) -> Mixture:
    """Global mixture of one column, refitted on draws from the party mixtures weighted by n_p."""
    rng = np.random.default_rng(seed)
    sizes = np.array([n for _, n in party_mixtures], dtype=float)
    per_party = rng.multinomial(draws, sizes / sizes.sum())
    samples = []
    for (mix, _), m in zip(party_mixtures, per_party):
        if m == 0:
            continue
        comp = rng.choice(len(mix.weights), size=m, p=np.array(mix.weights) / sum(mix.weights))
        x = rng.normal(np.array(mix.means)[comp], np.array(mix.stds)[comp])
        samples.append(np.clip(x, mix.minimum, mix.maximum))
    lo = min(m.minimum for m, _ in party_mixtures)
    hi = max(m.maximum for m, _ in party_mixtures)
    merged = fit_mixture(np.concatenate(samples), max_modes, seed)
    return Mixture(merged.weights, merged.means, merged.stds, lo, hi)
