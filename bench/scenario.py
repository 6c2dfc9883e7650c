"""The measurement tools' one scenario set-up: read a real table, hold its test set out, deal
the training rows to K parties with double imbalance.

The benchmark, the FLOP count and the epoch timing use :func:`set_up`; the scaling runs deal the
same training rows (:func:`training_rows`) with :func:`deal`, at several party counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from bench.datasets import BenchmarkTable, load_benchmark
from bench.imbalance import Scenario, ScenarioConfig, build_scenario


@dataclass(frozen=True)
class ScenarioSetup:
    """What a measurement run fits on and scores against.

    Attributes:
        parties: party name -> rows (index reset), ``party_0`` the largest.
        test: the held-out real test rows.
        label: the label column.
        discrete: the discrete columns other than the label.
        table: the benchmark table the scenario was built from.
        rare: with ``rare_party`` / ``rare_absent``: ``label`` (the rare class), ``holder``
            (a party name or None) and ``absent`` (party names); else empty.
    """

    parties: dict[str, pd.DataFrame]
    test: pd.DataFrame
    label: str
    discrete: list[str]
    table: BenchmarkTable
    rare: dict = field(default_factory=dict)

    @property
    def all_discrete(self) -> list[str]:
        """The discrete columns, the label last."""
        return [*self.discrete, self.label]

    def class_counts(self) -> dict[str, dict[str, int]]:
        """Rows of each label class (as str) per party."""
        return {p: {str(k): int(v) for k, v in d[self.label].value_counts().sort_index().items()}
                for p, d in self.parties.items()}

    def pooled(self) -> pd.DataFrame:
        """Every party's rows in one table, with a ``party`` column."""
        return pd.concat([d.assign(party=p) for p, d in self.parties.items()], ignore_index=True)


def held_out_split(table: BenchmarkTable, max_rows: int | None,
                   seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold the real test set out first (official split, else a stratified 20 %), then
    optionally subsample the training rows (stratified) to ``max_rows``."""
    from sklearn.model_selection import train_test_split

    train, test = table.train, table.test
    if test is None:
        train, test = train_test_split(train, test_size=0.2, stratify=train[table.label],
                                       random_state=seed)
    if max_rows is not None and len(train) > max_rows:
        train, _ = train_test_split(train, train_size=max_rows, stratify=train[table.label],
                                    random_state=seed)
    return train.reset_index(drop=True), test.reset_index(drop=True)


def deal(train: pd.DataFrame, label: str, config: ScenarioConfig,
         test: pd.DataFrame | None = None) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The parties (index reset) and the test set of :func:`bench.imbalance.build_scenario`."""
    scenario = build_scenario(train, label, config, test_df=test)
    return {p: d.reset_index(drop=True) for p, d in scenario.parties.items()}, scenario.test


def _rare(scenario: Scenario) -> dict:
    if scenario.rare_label is None:
        return {}
    return {"label": scenario.rare_label, "holder": scenario.rare_holder,
            "absent": list(scenario.rare_absent)}


def training_rows(dataset: str, data_dir: Path, max_rows: int | None,
                  seed: int) -> tuple[BenchmarkTable, pd.DataFrame]:
    """The table and its training rows after :func:`held_out_split`."""
    table = load_benchmark(dataset, data_dir)
    train, _ = held_out_split(table, max_rows, seed)
    return table, train


def set_up(dataset: str, data_dir: Path, *, seed: int, max_rows: int | None = None,
           n_parties: int = 5, size_ratio: float = 20.0, beta: float = 0.1,
           ir_cap: float | None = None, rare_party: str | None = None,
           rare_absent: int = 0) -> ScenarioSetup:
    """Load ``dataset`` from ``data_dir``, hold its test set out (:func:`held_out_split`) and deal
    the training rows to ``n_parties`` parties (size ratio, Dirichlet ``beta``, ``ir_cap``,
    ``rare_party``, ``rare_absent``: see :class:`bench.imbalance.ScenarioConfig`), all seeded by
    ``seed``."""
    table = load_benchmark(dataset, data_dir)
    train, test = held_out_split(table, max_rows, seed)
    scenario = build_scenario(train, table.label, ScenarioConfig(
        n_parties=n_parties, size_ratio=size_ratio, dirichlet_beta=beta, ir_cap=ir_cap,
        seed=seed, rare_party=rare_party, rare_absent=rare_absent), test_df=test)
    parties = {p: d.reset_index(drop=True) for p, d in scenario.parties.items()}
    discrete = [c for c in table.discrete_columns if c != table.label]
    return ScenarioSetup(parties=parties, test=scenario.test, label=table.label,
                         discrete=discrete, table=table, rare=_rare(scenario))
