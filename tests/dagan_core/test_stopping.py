"""The stopping rule, the best generator kept, budgets, and the held-out marginal gap."""

import numpy as np
import pandas as pd
import pytest
import torch

from dagan_core import ConfigError, load_synthesizer, make_synthesizer
from dagan_core.config import TrainConfig
from dagan_core.data.layout import ColumnLayout
from dagan_core.federation.fit_measures import marginal_gap
from dagan_core.synthesizers.stopping import Stopping, fit_score
from tests.conftest import TINY


def _layout():
    return ColumnLayout.build([("amount", "continuous", 2), ("color", "discrete", 3),
                               ("y", "discrete", 2)], "y")


def test_marginal_gap_is_zero_for_the_same_rows_and_one_for_disjoint_ones():
    layout = _layout()
    rows = np.zeros((4, layout.data_dim))
    rows[:, 0] = [-0.9, -0.1, 0.3, 0.95]
    rows[:, 1] = 1  # mode 0
    rows[:, 3] = 1  # color 0
    rows[:, 6] = 1  # label 0
    assert marginal_gap(layout, rows, rows.copy()) == 0.0
    other = rows.copy()
    other[:, 3], other[:, 4] = 0, 1  # every color differs
    other[:, 6], other[:, 7] = 0, 1  # the label is left out (conditioned on)
    spans = [s for s in layout.spans if s.column != "y"]
    assert marginal_gap(layout, rows, other) == pytest.approx(1 / len(spans))
    assert np.isnan(marginal_gap(layout, rows[:0], other))


def test_patience_stops_and_the_best_epochs_weights_are_restored():
    net = torch.nn.Linear(2, 1)
    stop = Stopping(TrainConfig(epochs=10, patience=2, min_epochs=1), steps_per_epoch=3)
    kept = None
    for epoch, score in enumerate([0.5, 0.3, 0.35, 0.31, 0.2]):
        with torch.no_grad():
            net.weight.fill_(float(epoch))
        if epoch == 1:
            kept = net.weight.clone()
        reason = stop.update(epoch, 1.0, fit_score({"a": score, "b": score}), [net])
        if reason:
            break
    assert (reason, epoch, stop.best_epoch) == ("no_improvement", 3, 1)
    assert stop.restore_best([net]) and torch.equal(net.weight, kept)
    summary = stop.summary()
    assert summary["kept_epoch"] == 1 and summary["steps"] == 12 and summary["epochs_run"] == 4


def test_without_patience_the_last_epoch_is_kept_and_nan_scores_never_count():
    stop = Stopping(TrainConfig(epochs=3, patience=0), steps_per_epoch=1)
    net = torch.nn.Linear(1, 1)
    assert stop.update(0, 1.0, fit_score({"a": float("nan")}), [net]) is None
    assert stop.best_score is None
    assert stop.update(1, 1.0, 0.2, [net]) is None
    assert stop.update(2, 1.0, 0.9, [net]) == "max_epochs"
    assert not stop.restore_best([net]) and stop.summary()["kept_epoch"] == 2


@pytest.mark.parametrize("bad", [{"patience": -1}, {"max_steps": 0}, {"max_seconds": 0.0},
                                 {"min_epochs": 0}])
def test_invalid_stopping_settings_are_refused(bad):
    with pytest.raises(ConfigError, match=next(iter(bad))):
        make_synthesizer("dagan", **bad)


def test_a_step_budget_stops_the_fit_and_the_saved_model_says_why(tiny_parties, tmp_path):
    synth = make_synthesizer("dagan", **{**TINY, "epochs": 50, "max_steps": 10})
    synth.fit(tiny_parties, label="y")
    steps = max(1, sum(len(t) for t in tiny_parties.values()) // TINY["batch_size"])
    stopping = synth.model.stopping
    assert stopping["reason"] == "max_steps"
    assert stopping["epochs_run"] == -(-10 // steps) == len(synth.model.history)
    assert all(np.isfinite(h["fit_score"]) for h in synth.model.history)
    synth.save(tmp_path / "m")
    loaded = load_synthesizer(tmp_path / "m", device="cpu")
    assert loaded.model.stopping == stopping
    assert len(loaded.sample(30, seed=1)) == 30


def test_a_fit_with_patience_keeps_its_best_epoch_and_resumes_to_the_same_model(
        tiny_parties, tmp_path):
    settings = {**TINY, "epochs": 8, "patience": 2, "min_epochs": 2}
    whole = make_synthesizer("dagan", **settings).fit(tiny_parties, label="y")
    info = whole.model.stopping
    scores = [h["fit_score"] for h in whole.model.history]
    assert info["best_epoch"] == int(np.argmin(scores)) == info["kept_epoch"]
    assert info["reason"] in ("no_improvement", "max_epochs")
    if info["reason"] == "no_improvement":
        assert len(scores) - 1 - info["best_epoch"] == 2

    parted = make_synthesizer("dagan", **{**settings, "epochs": 3})
    parted.fit(tiny_parties, label="y", checkpoint_dir=tmp_path / "ck")
    resumed = make_synthesizer("dagan", **settings)
    resumed.fit(tiny_parties, label="y", checkpoint_dir=tmp_path / "ck")
    assert resumed.model.stopping["best_epoch"] == info["best_epoch"]
    for a, b in zip(whole.model.generators, resumed.model.generators, strict=True):
        for (k, x), y in zip(a.state_dict().items(), b.state_dict().values()):
            assert torch.equal(x, y), k
    pd.testing.assert_frame_equal(whole.sample(50, seed=3), resumed.sample(50, seed=3))
