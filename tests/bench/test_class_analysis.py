"""The per-class analysis helpers: condition draw counting and class likeness."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.class_analysis import DrawCounter, looks_like
from dagan_core import make_synthesizer
from dagan_core.federation.party import Party
from tests.conftest import TINY


def test_the_draw_counter_counts_every_draw_and_is_removed_afterwards(tiny_parties):
    original = Party._draw
    counter = DrawCounter()
    synth = make_synthesizer("dagan", **TINY)
    with counter.installed():
        synth.fit(tiny_parties, label="y")
    assert Party._draw is original
    assert counter.total == sum(counter.rows.values()) > 0
    assert 0 < sum(counter.asked.values()) < counter.total  # label and other conditions
    assert set(counter.asked) <= {0, 1} and set(counter.rows) <= {0, 1}


def _table(n: int, seed: int) -> pd.DataFrame:
    g = np.random.default_rng(seed)
    x = g.normal(size=n)
    return pd.DataFrame({"x": x, "c": g.choice(["a", "b"], n), "y": np.where(x > 0, "p", "q"),
                         "party": "party_a"})


def test_rows_with_the_wrong_features_are_not_called_their_class():
    real, test = _table(400, 1), _table(200, 2)
    flipped = real.assign(y=np.where(real["y"] == "p", "q", "p"))
    same, recall = looks_like(real, real, test, "y", ["c", "y"], seed=0)
    wrong, _ = looks_like(real, flipped, test, "y", ["c", "y"], seed=0)
    assert min(same.values()) > 0.95 and min(recall.values()) > 0.9
    assert max(wrong.values()) < 0.05
