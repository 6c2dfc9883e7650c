"""Dual-imbalance scenarios: split one real table into K parties with controlled skew (DESIGN 4).

``build_scenario`` holds the test set out first, then deals the remaining rows to K parties whose
sizes follow a geometric progression (n_max / n_min = r) and whose label mixes are skewed by a
Dirichlet(beta) draw per class; an optional cap makes each party's own label mix harsher, and
the rarest class can be given whole to one party or kept away from the smallest parties.
The real tables it is applied to are read by :mod:`bench.datasets`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dagan_core.errors import ConfigError, InvalidDataError

logger = logging.getLogger(__name__)


def _check(cond: bool, name: str, value: object, rule: str) -> None:
    if not cond:
        raise ConfigError(f"scenario parameter {name}={value!r} is invalid: {rule}")


RARE_PARTIES = (None, "smallest", "largest")


@dataclass(frozen=True)
class ScenarioConfig:
    """Parameters of a dual-imbalance scenario.

    Attributes:
        n_parties: number of parties K (>= 1).
        size_ratio: r = n_max / n_min of the target party sizes (>= 1; ignored when K = 1).
        dirichlet_beta: concentration of the per-class Dirichlet draw over parties (> 0);
            small values (0.1) give each class to few parties, large values (100) mix evenly.
        ir_cap: None, or a minimum intra-party imbalance ratio (>= 1). In every party each class
            other than the party's majority is downsampled to at most floor(majority / ir_cap)
            rows, keeping >= 1 row of every class the party has. This makes the party's
            majority:minority ratio at least ir_cap (harsher imbalance); dropped rows are unused.
        test_fraction: share of each class held out as the test set when no test table is given.
        seed: seed of every random draw.
        rare_party: None, ``"smallest"`` or ``"largest"``: that party (by target size, before the
            move) receives every training row of the rare class (the class with the fewest
            training rows, the first in sorted order on a tie; for a binary table the minority
            label). A small holder simply grows by those rows.
        rare_absent: N >= 0 (< K): the N parties of smallest target size hold no row of the rare
            class; their rare rows go to the other parties in proportion to the rare rows these
            already have (to their target sizes if they have none). Cannot be combined with
            ``rare_party`` (whose holder already leaves every other party without the class).
    """

    n_parties: int = 5
    size_ratio: float = 20.0
    dirichlet_beta: float = 0.1
    ir_cap: float | None = None
    test_fraction: float = 0.2
    seed: int = 0
    rare_party: str | None = None
    rare_absent: int = 0

    def __post_init__(self) -> None:
        _check(isinstance(self.n_parties, int | np.integer) and self.n_parties >= 1,
               "n_parties", self.n_parties, "must be an integer >= 1")
        _check(math.isfinite(self.size_ratio) and self.size_ratio >= 1, "size_ratio",
               self.size_ratio, "must be a finite number >= 1")
        _check(math.isfinite(self.dirichlet_beta) and self.dirichlet_beta > 0,
               "dirichlet_beta", self.dirichlet_beta, "must be a finite number > 0")
        _check(self.ir_cap is None or (math.isfinite(self.ir_cap) and self.ir_cap >= 1),
               "ir_cap", self.ir_cap, "must be None or a finite number >= 1")
        _check(0 < self.test_fraction < 1, "test_fraction", self.test_fraction,
               "must be in (0, 1)")
        _check(isinstance(self.seed, int | np.integer) and self.seed >= 0, "seed", self.seed,
               "must be an integer >= 0")
        _check(self.rare_party in RARE_PARTIES, "rare_party", self.rare_party,
               f"must be one of {RARE_PARTIES}")
        _check(isinstance(self.rare_absent, int | np.integer)
               and 0 <= self.rare_absent < self.n_parties, "rare_absent", self.rare_absent,
               f"must be an integer in [0, n_parties - 1] = [0, {self.n_parties - 1}] "
               "(at least one party must hold the rare class)")
        _check(not (self.rare_party and self.rare_absent), "rare_absent", self.rare_absent,
               f"cannot be combined with rare_party={self.rare_party!r} (the holder already "
               "leaves every other party without the rare class)")

    @property
    def moves_rare_class(self) -> bool:
        """Whether ``rare_party`` or ``rare_absent`` is set."""
        return self.rare_party is not None or self.rare_absent > 0


@dataclass(frozen=True)
class Scenario:
    """K party tables and a held-out test table.

    Attributes:
        parties: ``party_0`` .. ``party_{K-1}`` -> rows, ``party_0`` the largest. Index labels
            are those of the source table; rows keep the source order.
        test: the held-out real test rows.
        label: the label column.
        config: the configuration that built the scenario.
        rare_label: the rare class (as str) when ``rare_party`` or ``rare_absent`` is set.
        rare_holder: the name of the party holding every rare row (``rare_party``), else None.
        rare_absent: the names of the parties without the rare class (``rare_absent``).
    """

    parties: dict[str, pd.DataFrame]
    test: pd.DataFrame
    label: str
    config: ScenarioConfig
    rare_label: str | None = None
    rare_holder: str | None = None
    rare_absent: tuple[str, ...] = ()

    def describe(self) -> pd.DataFrame:
        """Rows per party (index ``party``) and per class (one column per class, as str) plus
        ``n_rows``; a last row ``test`` describes the test set."""
        frames = {**self.parties, "test": self.test}
        table = pd.DataFrame({
            name: df[self.label].astype(str).value_counts() for name, df in frames.items()
        }).T.fillna(0).astype(int)
        table = table[sorted(table.columns)]
        table["n_rows"] = [len(df) for df in frames.values()]
        table.index.name = "party"
        return table


def largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Integers proportional to ``weights`` that sum to ``total`` exactly."""
    raw = weights / weights.sum() * total
    base = np.floor(raw).astype(np.int64)
    order = np.argsort(-(raw - base), kind="stable")
    base[order[: total - int(base.sum())]] += 1
    return base


def _fit_margins(seed: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Iterative proportional fitting: scale ``seed`` until row / column sums match."""
    m = seed.copy()
    for _ in range(5000):
        m *= (rows / m.sum(axis=1))[:, None]
        m *= (cols / m.sum(axis=0))[None, :]
        if np.abs(m.sum(axis=1) - rows).max() < 1e-3:
            break
    return m


def class_groups(codes: np.ndarray, n_classes: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Row positions of each class, each group shuffled."""
    order = np.argsort(codes, kind="stable")
    bounds = np.cumsum(np.bincount(codes, minlength=n_classes))[:-1]
    return [rng.permutation(g) for g in np.split(order, bounds)]


def rare_positions(config: ScenarioConfig) -> tuple[int | None, list[int]]:
    """Target-size positions (0: the largest target) of the rare class's holder and of the
    parties without it."""
    k = config.n_parties
    holder = {None: None, "largest": 0, "smallest": k - 1}[config.rare_party]
    return holder, list(range(k - config.rare_absent, k))


def _move_rare(counts: np.ndarray, rare: int, config: ScenarioConfig, sizes: np.ndarray) -> None:
    """Give every rare row to the holder, or take the rare rows of the absent parties to the
    others (in proportion to their rare rows, else to their target sizes)."""
    holder, absent = rare_positions(config)
    if holder is not None:
        total = counts[rare].sum()
        counts[rare] = 0
        counts[rare, holder] = total
    elif absent:
        moved = int(counts[rare, absent].sum())
        counts[rare, absent] = 0
        others = [j for j in range(config.n_parties) if j not in absent]
        weights = counts[rare, others].astype(float)
        if weights.sum() == 0:
            weights = sizes[others].astype(float)
        counts[rare, others] += largest_remainder(weights, moved)


def _two_rows_each(counts: np.ndarray, keep: int | None) -> None:
    """Every party keeps >= 2 rows: a party below takes rows from the party with the most
    movable rows (every class but ``keep``), of that party's largest movable class."""
    while (col := counts.sum(axis=0)).min() < 2:
        small = int(col.argmin())
        movable = counts.copy()
        if keep is not None:
            movable[keep] = 0
        big = int(movable.sum(axis=0).argmax())
        cls = int(movable[:, big].argmax())
        if big == small or movable[cls, big] < 1:
            raise InvalidDataError(f"{int(counts.sum())} training rows cannot give "
                                   f"{counts.shape[1]} parties 2 rows each besides the rare "
                                   "class's placement")
        counts[cls, big] -= 1
        counts[cls, small] += 1


def _party_counts(class_totals: np.ndarray, config: ScenarioConfig,
                  rng: np.random.Generator, rare: int | None = None) -> np.ndarray:
    """The class x party count matrix (see :func:`build_scenario`); ``rare``: the row of the
    rare class when ``config`` moves it."""
    k, n = config.n_parties, int(class_totals.sum())
    ranks = np.arange(k) / max(k - 1, 1)
    sizes = largest_remainder(config.size_ratio ** (-ranks), n)
    props = rng.dirichlet(np.full(k, config.dirichlet_beta), size=len(class_totals))
    props = np.maximum(np.nan_to_num(props), 1e-12)
    fitted = _fit_margins(props, class_totals.astype(float), sizes.astype(float))
    counts = np.stack([largest_remainder(row, int(t)) for row, t in zip(fitted, class_totals)])
    if rare is not None:
        _move_rare(counts, rare, config, sizes)
    _two_rows_each(counts, rare)
    if config.ir_cap is not None:
        for j in range(k):
            column = counts[:, j]
            limit = max(1, int(column.max() // config.ir_cap))
            minor = (column > 0) & (np.arange(len(column)) != column.argmax())
            column[minor] = np.minimum(column[minor], limit)
    return counts


def _check_source(df: pd.DataFrame, label: str, test_df: pd.DataFrame | None) -> None:
    """A non-empty table with a label on every row (and in the test table, if given)."""
    if not isinstance(df, pd.DataFrame) or df.empty:
        raise InvalidDataError("the source table is empty")
    if label not in df.columns:
        raise InvalidDataError("label column is missing", column=label)
    if df[label].isna().any():
        raise InvalidDataError(f"{int(df[label].isna().sum())} rows have no label", column=label)
    if test_df is not None and label not in test_df.columns:
        raise InvalidDataError("label column is missing from the test table", column=label)


def _hold_out(df: pd.DataFrame, groups: list[np.ndarray], fraction: float) -> pd.DataFrame:
    """Step 1 of :func:`build_scenario`: each class gives its first round(fraction * n_c)
    (shuffled) rows to the test set, clipped to [1, n_c - 1]; ``groups`` keeps the rest."""
    test_parts = []
    for i, group in enumerate(groups):
        n_c = len(group)
        n_test = int(np.clip(np.floor(fraction * n_c + 0.5),
                             1 if n_c >= 2 else 0, max(n_c - 1, 0)))
        test_parts.append(group[:n_test])
        groups[i] = group[n_test:]
    return df.iloc[np.sort(np.concatenate(test_parts))]


def build_scenario(
    df: pd.DataFrame,
    label: str,
    config: ScenarioConfig,
    test_df: pd.DataFrame | None = None,
) -> Scenario:
    """Split a real table into K parties with controlled double imbalance.

    Algorithm (deterministic for ``config.seed``, one ``numpy.random.default_rng``):

    1. Test hold-out first. With ``test_df`` it is the test set as is and all of ``df`` is dealt.
       Otherwise each class c with n_c rows gives round(test_fraction * n_c) random rows to the
       test set, clipped to [1, n_c - 1] (0 for a class with one row), so every class keeps a
       training row and every class with >= 2 rows reaches the test set.
    2. Target party sizes: n_k proportional to r ** (-k / (K - 1)), k = 0..K-1 (geometric,
       n_0 / n_{K-1} = r), rounded by largest remainder to sum to the N remaining rows.
    3. Label skew: for each class draw proportions p_c ~ Dirichlet(beta, ..., beta) over the K
       parties (floored at 1e-12). Iterative proportional fitting scales the class x party
       matrix [p_c,k] until its row sums are the class counts and its column sums the target
       sizes (the matrix closest to the draws in KL divergence with both margins); each class row
       is rounded by largest remainder. Class totals are exact; party sizes match their targets up
       to rounding (< number of classes rows). A party below 2 rows takes rows from the largest.
       Optional ``rare_party`` / ``rare_absent`` (see :class:`ScenarioConfig`) then move the rare
       class's counts (no random draw: every other class keeps its deal, and a scenario without
       them is the same as before), and the rows a party takes to reach 2 are never rare ones.
    4. Optional ``ir_cap`` (see :class:`ScenarioConfig`) lowers non-majority class counts (a rare
       holder keeps at least 1 rare row; dropped rows are unused, never given to another party).
    5. Each class's rows are shuffled and dealt to parties in consecutive blocks, so no row goes
       to two parties. Parties are named by decreasing final size (``party_0`` largest).

    Args:
        df: the real training table (all rows labelled).
        label: the label column.
        config: the scenario parameters.
        test_df: an official test split to use as the test set; None holds out a stratified
            ``config.test_fraction`` of ``df``.

    Returns:
        The :class:`Scenario`.

    Raises:
        InvalidDataError: ``df`` is empty, lacks the label, has missing labels, or has fewer than
            2 * K rows to deal.
    """
    _check_source(df, label, test_df)
    rng = np.random.default_rng(config.seed)
    codes, classes = pd.factorize(df[label].astype(str), sort=True)
    groups = class_groups(codes, len(classes), rng)
    test = test_df if test_df is not None else _hold_out(df, groups, config.test_fraction)
    totals = np.array([len(g) for g in groups], dtype=np.int64)
    if totals.sum() < 2 * config.n_parties:
        raise InvalidDataError(f"{int(totals.sum())} training rows cannot give "
                               f"{config.n_parties} parties 2 rows each")

    rare = int(np.argmin(totals)) if config.moves_rare_class else None
    counts = _party_counts(totals, config, rng, rare)
    blocks = np.concatenate([np.zeros((len(totals), 1), np.int64),
                             np.cumsum(counts, axis=1)], axis=1)
    members = [
        np.sort(np.concatenate([g[blocks[c, j]: blocks[c, j] + counts[c, j]]
                                for c, g in enumerate(groups)]))
        for j in range(config.n_parties)
    ]
    by_size = sorted(range(config.n_parties), key=lambda j: -len(members[j]))
    parties = {f"party_{i}": df.iloc[members[j]] for i, j in enumerate(by_size)}
    logger.info("scenario K=%d r=%.3g beta=%.3g ir_cap=%s: party sizes %s, test %d rows",
                config.n_parties, config.size_ratio, config.dirichlet_beta, config.ir_cap,
                [len(p) for p in parties.values()], len(test))
    if rare is None:
        return Scenario(parties=parties, test=test, label=label, config=config)
    name_of = {j: f"party_{i}" for i, j in enumerate(by_size)}
    holder, absent = rare_positions(config)
    logger.info("rare class %r: holder %s, absent from %s", classes[rare],
                None if holder is None else name_of[holder], [name_of[j] for j in absent])
    return Scenario(parties=parties, test=test, label=label, config=config,
                    rare_label=str(classes[rare]),
                    rare_holder=None if holder is None else name_of[holder],
                    rare_absent=tuple(name_of[j] for j in absent))
