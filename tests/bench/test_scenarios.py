"""Dual-imbalance scenario builder and benchmark loader."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.datasets import load_benchmark
from bench.imbalance import ScenarioConfig, build_scenario
from bench.options import default_data_dir
from dagan_core.errors import ConfigError, InvalidDataError
from dagan_core.profiling import profile_parties, profile_party

DATASETS = default_data_dir()
needs_datasets = pytest.mark.skipif(not (DATASETS / "adult.csv").is_file(),
                                    reason="shared/datasets not available")


def _table(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.choice(["a", "b", "c"], size=n, p=[0.6, 0.3, 0.1])
    return pd.DataFrame({"id": np.arange(n), "x": rng.normal(size=n), "y": y})


def _ids(scenario) -> list[np.ndarray]:
    return [p["id"].to_numpy() for p in scenario.parties.values()]


@pytest.mark.parametrize("kwargs", [
    {"n_parties": 0}, {"size_ratio": 0.5}, {"dirichlet_beta": 0.0}, {"ir_cap": 0.5},
    {"test_fraction": 1.0}, {"seed": -1}, {"size_ratio": float("inf")},
])
def test_config_validation(kwargs):
    with pytest.raises(ConfigError):
        ScenarioConfig(**kwargs)


def test_split_shape_sizes_and_disjointness():
    df = _table()
    sc = build_scenario(df, "y", ScenarioConfig(n_parties=4, size_ratio=8, dirichlet_beta=0.5,
                                                seed=1))
    assert list(sc.parties) == ["party_0", "party_1", "party_2", "party_3"]
    sizes = [len(p) for p in sc.parties.values()]
    assert sizes == sorted(sizes, reverse=True) and min(sizes) >= 2
    assert sizes[0] / sizes[-1] == pytest.approx(8, rel=0.05)
    ids = np.concatenate([*_ids(sc), sc.test["id"].to_numpy()])
    assert len(ids) == len(set(ids)) == len(df)  # no duplicate, nothing lost (no ir_cap)
    expected_test = np.floor(0.2 * df["y"].value_counts() + 0.5).astype(int)
    test_counts = sc.test["y"].value_counts().sort_index()
    assert test_counts.to_dict() == expected_test.sort_index().to_dict()
    desc = sc.describe()
    assert list(desc.columns) == ["a", "b", "c", "n_rows"]
    assert desc.loc["test", "n_rows"] == len(sc.test)
    assert desc.loc[list(sc.parties), "n_rows"].tolist() == sizes


def test_deterministic_for_a_seed():
    df = _table()
    cfg = ScenarioConfig(n_parties=3, size_ratio=4, dirichlet_beta=0.3, seed=5)
    first, again = build_scenario(df, "y", cfg), build_scenario(df, "y", cfg)
    other = build_scenario(df, "y", ScenarioConfig(n_parties=3, size_ratio=4,
                                                    dirichlet_beta=0.3, seed=6))
    assert all(np.array_equal(a, b) for a, b in zip(_ids(first), _ids(again)))
    assert not all(np.array_equal(a, b) for a, b in zip(_ids(first), _ids(other)))


def test_beta_controls_label_skew():
    df = _table(4000)

    def mean_jsd(beta: float) -> float:
        sc = build_scenario(df, "y", ScenarioConfig(n_parties=5, size_ratio=4,
                                                    dirichlet_beta=beta, seed=3))
        cross = profile_parties({k: profile_party(v, "y") for k, v in sc.parties.items()})
        return float(np.mean(list(cross.label_jsd.values())))

    assert mean_jsd(1000.0) < 0.01
    assert mean_jsd(0.05) > 0.1


def test_ir_cap_makes_each_party_at_least_that_imbalanced():
    sc = build_scenario(_table(), "y", ScenarioConfig(n_parties=3, size_ratio=2,
                                                      dirichlet_beta=10.0, ir_cap=20, seed=0))
    for name, party in sc.parties.items():
        counts = party["y"].value_counts()
        assert counts.min() >= 1
        if len(counts) > 1:
            assert counts.max() / counts.min() >= 20 or counts.min() == 1, name


def test_given_test_table_is_used_as_is():
    df, test = _table(300), _table(50, seed=9)
    sc = build_scenario(df, "y", ScenarioConfig(n_parties=2, size_ratio=3), test_df=test)
    assert sc.test is test
    assert sum(len(p) for p in sc.parties.values()) == len(df)


def test_bad_input():
    cfg = ScenarioConfig(n_parties=5)
    with pytest.raises(InvalidDataError) as err:
        build_scenario(_table(), "income", cfg)
    assert err.value.column == "income"
    with pytest.raises(InvalidDataError):
        build_scenario(_table()[:0], "y", cfg)
    with pytest.raises(InvalidDataError):
        build_scenario(_table(10), "y", cfg)  # 8 training rows for 5 parties
    with pytest.raises(ConfigError, match="adult"):
        load_benchmark("mnist", DATASETS)


@needs_datasets
def test_adult_scenario():
    bench = load_benchmark("adult", DATASETS)
    assert bench.label == "income" and "income" in bench.discrete_columns
    cfg = ScenarioConfig(n_parties=5, size_ratio=20, dirichlet_beta=0.1, seed=7)
    sc = build_scenario(bench.train, bench.label, cfg)  # stratified 20 % hold-out
    sizes = [len(p) for p in sc.parties.values()]
    assert len(sizes) == 5 and sizes[0] / sizes[-1] == pytest.approx(20, rel=0.02)
    party_rows = np.concatenate([p.index.to_numpy() for p in sc.parties.values()])
    assert len(np.intersect1d(party_rows, sc.test.index)) == 0
    assert len(party_rows) + len(sc.test) == len(bench.train)
    assert len(sc.test) == pytest.approx(0.2 * len(bench.train), abs=2)
    again = build_scenario(bench.train, bench.label, cfg)
    assert all(a.index.equals(b.index) for a, b in zip(sc.parties.values(),
                                                       again.parties.values()))
    other = build_scenario(bench.train, bench.label, ScenarioConfig(
        n_parties=5, size_ratio=20, dirichlet_beta=0.1, seed=8))
    assert not sc.parties["party_0"].index.equals(other.parties["party_0"].index)


@needs_datasets
def test_covertype_collapsed_and_subsampled():
    bench = load_benchmark("covertype", DATASETS, max_rows=1000, seed=1)
    assert len(bench.train) == 1000 and bench.test is None
    assert {"Wilderness_Area", "Soil_Type"} <= set(bench.train.columns)
    assert not any(c.startswith("Soil_Type") and c != "Soil_Type" for c in bench.train.columns)
    assert bench.train["Cover_Type"].nunique() == 7  # every class kept, incl. the 0.47 % one
    assert bench.train["Soil_Type"].str.startswith("Soil_Type").all()
