"""The rare-class options of the scenario builder: one holder, parties without the class."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from bench.imbalance import ScenarioConfig, build_scenario
from dagan_core.errors import ConfigError


def _table(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.choice(["a", "b", "c"], size=n, p=[0.6, 0.3, 0.1])
    return pd.DataFrame({"id": np.arange(n), "x": rng.normal(size=n), "y": y})


def _digest(scenario) -> str:
    h = hashlib.sha256()
    for name, party in scenario.parties.items():
        h.update(name.encode())
        h.update(party["id"].to_numpy().tobytes())
    h.update(scenario.test["id"].to_numpy().tobytes())
    return h.hexdigest()[:16]


# the parties and test set the builder gave before the rare-class options existed
@pytest.mark.parametrize(("n", "kwargs", "digest"), [
    (2000, {"n_parties": 10, "size_ratio": 100, "seed": 0}, "d1bcadee006cfa24"),
    (400, {"n_parties": 20, "size_ratio": 100, "seed": 3}, "e11052e0f5b61819"),
    (2000, {"n_parties": 10, "size_ratio": 100, "ir_cap": 10, "seed": 1}, "8b6cc73388b70754"),
    (400, {"n_parties": 5, "size_ratio": 20, "dirichlet_beta": 0.5, "seed": 2},
     "b03b3535cdf3609e"),
])
def test_without_the_options_the_parties_are_those_of_before(n, kwargs, digest):
    scenario = build_scenario(_table(n), "y", ScenarioConfig(**kwargs))
    assert _digest(scenario) == digest
    assert scenario.rare_label is None and scenario.rare_holder is None
    assert scenario.rare_absent == ()


def _rare_counts(scenario) -> dict[str, int]:
    return {p: int((d["y"] == "c").sum()) for p, d in scenario.parties.items()}


def _other_counts(scenario) -> pd.DataFrame:
    """Rows of the classes other than the rare one, per party in target-size order."""
    return pd.DataFrame({p: d.loc[d["y"] != "c", "y"].value_counts()
                         for p, d in scenario.parties.items()}).fillna(0)


@pytest.mark.parametrize("which", ["smallest", "largest"])
def test_one_party_holds_every_rare_row(which):
    df = _table()
    # a seed where no party needs rows from another to reach 2 (those rows would differ)
    base = build_scenario(df, "y", ScenarioConfig(n_parties=10, size_ratio=100, seed=3))
    sc = build_scenario(df, "y", ScenarioConfig(n_parties=10, size_ratio=100, seed=3,
                                                rare_party=which))
    assert sc.rare_label == "c"  # the class with the fewest training rows
    counts = _rare_counts(sc)
    train_rare = int((df["y"] == "c").sum()) - int((sc.test["y"] == "c").sum())
    assert counts[sc.rare_holder] == train_rare > 0
    assert sum(counts.values()) == train_rare  # nowhere else
    # the other classes keep their deal: the same rows, only the names follow the final sizes
    others = {frozenset(d.loc[d["y"] != "c", "id"]) for d in sc.parties.values()}
    before = {frozenset(d.loc[d["y"] != "c", "id"]) for d in base.parties.values()}
    assert others == before
    assert sc.test["id"].tolist() == base.test["id"].tolist()
    if which == "smallest":  # the holder is the party with the fewest other rows
        sizes = _other_counts(sc).sum()
        assert sizes[sc.rare_holder] == sizes.min()


def test_the_smallest_parties_hold_none_of_the_rare_class():
    df = _table()
    sc = build_scenario(df, "y", ScenarioConfig(n_parties=10, size_ratio=100, seed=2,
                                                rare_absent=3))
    counts = _rare_counts(sc)
    assert len(sc.rare_absent) == 3 and sc.rare_holder is None
    assert all(counts[p] == 0 for p in sc.rare_absent)
    assert all(len(sc.parties[p]) >= 2 for p in sc.rare_absent)
    ids = np.concatenate([d["id"].to_numpy() for d in sc.parties.values()])
    assert len(ids) + len(sc.test) == len(df) == len(set(ids) | set(sc.test["id"]))


def test_the_ir_cap_still_holds_with_a_holder():
    sc = build_scenario(_table(), "y", ScenarioConfig(n_parties=10, size_ratio=100, seed=1,
                                                      ir_cap=5, rare_party="smallest"))
    counts = _rare_counts(sc)
    assert counts[sc.rare_holder] >= 1
    assert sum(counts.values()) == counts[sc.rare_holder]
    for party in sc.parties.values():
        vc = party["y"].value_counts()
        if len(vc) > 1:
            assert vc.iloc[0] / vc.iloc[-1] >= 5


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_parties": 10, "rare_absent": 10}, r"rare_absent=10 is invalid: .*\[0, 9\]"),
    ({"n_parties": 3, "rare_absent": -1}, r"rare_absent=-1 is invalid"),
    ({"rare_party": "middle"}, r"rare_party='middle' is invalid: must be one of"),
    ({"rare_party": "smallest", "rare_absent": 2},
     r"rare_absent=2 is invalid: cannot be combined with rare_party='smallest'"),
])
def test_bad_rare_options_are_named(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ScenarioConfig(**kwargs)
