"""The held-out utility measure (a classifier trained on the fakes, scored on held-out rows) and
the joint fit score the stopping rule follows."""

import math

import numpy as np
import pytest
import torch

from dagan_core import make_synthesizer
from dagan_core.config import TrainConfig
from dagan_core.data.layout import ColumnLayout
from dagan_core.federation import messages as m
from dagan_core.federation.fit_measures import heldout_f1, joint_score
from dagan_core.federation.remote import codec
from dagan_core.federation.remote.errors import CodecError
from dagan_core.synthesizers.stopping import FALLBACK_SCORE, SCORE, Stopping, fit_score
from tests.conftest import TINY

LAYOUT = ColumnLayout.build([("amount", "continuous", 2), ("color", "discrete", 3),
                             ("y", "discrete", 2)], "y")


def _rows(n: int, seed: int) -> np.ndarray:
    """Encoded rows whose amount and color follow the label y (both mostly, not exactly)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    color = np.where(rng.random(n) < 0.85, y, 2)
    rows = np.zeros((n, LAYOUT.data_dim), np.float32)
    rows[:, 0] = np.clip(np.where(y == 1, 0.5, -0.5) + rng.normal(0, 0.2, n), -1, 1)
    rows[np.arange(n), 1 + rng.integers(0, 2, n)] = 1  # the mode says nothing about y
    rows[np.arange(n), 3 + color] = 1
    rows[np.arange(n), 6 + y] = 1
    return rows


def test_rows_like_the_real_ones_score_high_and_label_shuffled_ones_low():
    real = _rows(300, 0)
    assert heldout_f1(LAYOUT, real, real.copy()) > 0.95
    assert heldout_f1(LAYOUT, real, _rows(300, 1)) > 0.95
    shuffled = _rows(300, 1)
    shuffled[:, 6:8] = shuffled[np.random.default_rng(2).permutation(300), 6:8]
    assert heldout_f1(LAYOUT, real, shuffled) < 0.7
    flipped = _rows(300, 1)
    flipped[:, 6:8] = flipped[:, 7:5:-1]  # features taught with the opposite label
    assert heldout_f1(LAYOUT, real, flipped) < 0.2


def test_soft_fakes_are_read_as_their_argmax_and_the_measure_draws_from_no_global_stream():
    real, fake = _rows(200, 0), _rows(200, 1)
    soft = fake * 0.7 + 0.1  # one-hot blocks softened, the argmax unchanged
    soft[:, 0] = fake[:, 0]
    state = np.random.get_state()  # noqa: NPY002 (the legacy global stream must stay put)
    torch_state = torch.get_rng_state()
    assert heldout_f1(LAYOUT, real, soft) == heldout_f1(LAYOUT, real, fake)
    assert heldout_f1(LAYOUT, real, fake) == heldout_f1(LAYOUT, real, fake)  # deterministic
    assert np.random.get_state()[1].tolist() == state[1].tolist()  # noqa: NPY002
    assert torch.equal(torch.get_rng_state(), torch_state)


def test_a_missing_class_scores_badly_and_a_single_class_probe_measures_nothing():
    real = _rows(200, 0)
    fake = _rows(200, 1)
    one_class = fake[fake[:, 6] == 1]  # the generator made only class 0
    assert heldout_f1(LAYOUT, real, one_class) < 0.5  # a constant prediction, not NaN
    assert math.isnan(heldout_f1(LAYOUT, real[real[:, 6] == 1], fake))
    assert math.isnan(heldout_f1(LAYOUT, real, fake[:0]))


def test_the_joint_score_follows_the_f1_and_breaks_ties_by_the_marginal_gap():
    assert joint_score(0.8, 0.1) == pytest.approx(0.21)
    assert joint_score(0.8, 0.05) < joint_score(0.8, 0.1) < joint_score(0.75, 0.0)
    assert math.isnan(joint_score(float("nan"), 0.1))
    assert joint_score(0.8, float("nan")) == pytest.approx(0.2)


def test_fit_score_is_the_mean_joint_score_with_the_marginal_gap_as_fallback():
    marginal = {"a": 0.1, "b": 0.3}
    assert fit_score(marginal, {"a": 0.9, "b": 0.7}) == pytest.approx(
        ((0.1 + 0.01) + (0.3 + 0.03)) / 2)
    assert fit_score(marginal, {"a": 0.9, "b": float("nan")}) == pytest.approx(0.11)
    assert fit_score(marginal, {"a": float("nan")}) == pytest.approx(0.2)
    assert fit_score(marginal) == pytest.approx(0.2)
    assert fit_score({"a": float("nan")}, {"a": float("nan")}) is None


def test_stopping_keeps_the_epoch_with_the_best_joint_score_not_the_best_marginal_gap():
    net = torch.nn.Linear(1, 1)
    stop = Stopping(TrainConfig(epochs=10, patience=3, min_epochs=1), steps_per_epoch=1)
    # the marginal gap keeps improving while the held-out F1 peaks at epoch 2
    marginals = [0.30, 0.20, 0.15, 0.12, 0.10, 0.09]
    f1s = [0.50, 0.60, 0.75, 0.70, 0.65, 0.62]
    for epoch, (gap, f1) in enumerate(zip(marginals, f1s)):
        reason = stop.update(epoch, 1.0, fit_score({"a": gap}, {"a": f1}), [net], f1)
        if reason:
            break
    assert (reason, epoch, stop.best_epoch) == ("no_improvement", 5, 2)
    summary = stop.summary()
    assert summary["best_heldout_f1"] == 0.75 and summary["score"] == SCORE
    assert summary["best_score"] == pytest.approx(1 - 0.75 + 0.1 * 0.15)

    fallback = Stopping(TrainConfig(epochs=2), steps_per_epoch=1)
    fallback.update(0, 1.0, fit_score({"a": 0.2}, {"a": float("nan")}), [net], None)
    assert fallback.summary()["score"] == FALLBACK_SCORE


def test_the_heldout_f1_crosses_the_wire_nan_included_and_infinity_is_refused():
    for value in (0.625, float("nan")):
        report = m.FitReport(0.1, (0.2, float("nan")), 12, 0.05, value)
        back = codec.decode(codec.encode(report, session="s", seq=3), direction="reply").message
        assert back.heldout_f1 == value or (math.isnan(value) and math.isnan(back.heldout_f1))
    with pytest.raises(CodecError, match="heldout_f1"):
        codec.encode(m.FitReport(0.1, (0.2,), 12, 0.05, float("inf")), session="s", seq=3)


def test_a_fit_records_each_partys_heldout_f1_and_scores_epochs_by_it(tiny_parties):
    synth = make_synthesizer("dagan", **{**TINY, "epochs": 1})
    synth.fit(tiny_parties, label="y")
    for h in synth.model.history:
        assert set(h["heldout_f1"]) == set(tiny_parties)
        assert all(0.0 <= v <= 1.0 for v in h["heldout_f1"].values() if v is not None)
        assert h["fit_score"] == pytest.approx(fit_score(h["marginal_gap"], h["heldout_f1"]))
    assert any(v is not None for h in synth.model.history for v in h["heldout_f1"].values())
    assert synth.model.stopping["score"] == SCORE
