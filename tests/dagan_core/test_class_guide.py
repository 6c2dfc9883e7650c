"""The class guide: a party's label classifier whose cross-entropy on label-conditioned fake
rows joins the generator feedback (``class_loss_weight``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dagan_core import ConfigError, make_synthesizer
from dagan_core.data.layout import ColumnLayout
from dagan_core.federation.class_guide import ClassGuide
from tests.conftest import TINY


def _layout() -> ColumnLayout:
    # one continuous column (alpha + 2 modes), one discrete column of 3, the label of 2
    return ColumnLayout.build([("x", "continuous", 2), ("c", "discrete", 3), ("y", "discrete", 2)],
                              "y")


def _rows(n: int, seed: int) -> torch.Tensor:
    """Encoded rows whose label is the sign of the continuous value."""
    layout = _layout()
    g = np.random.default_rng(seed)
    x = g.uniform(-0.9, 0.9, n)
    out = np.zeros((n, layout.data_dim), dtype=np.float32)
    out[:, 0] = x
    out[np.arange(n), 1 + g.integers(0, 2, n)] = 1.0
    out[np.arange(n), 3 + g.integers(0, 3, n)] = 1.0
    out[np.arange(n), 6 + (x > 0).astype(int)] = 1.0
    return torch.as_tensor(out)


def test_the_classifier_learns_the_label_without_seeing_it():
    layout = _layout()
    guide = ClassGuide(layout, 1.0, seed=0, device=torch.device("cpu"))
    real = _rows(400, 1)
    first = guide.train_step(real)
    for _ in range(300):
        last = guide.train_step(real)
    assert last < 0.5 * first
    flipped = real.clone()
    flipped[:, 6:8] = flipped[:, [7, 6]]  # the label span is masked: predictions do not change
    guide.net.eval()
    with torch.no_grad():
        torch.testing.assert_close(guide.net(real * guide.mask), guide.net(flipped * guide.mask))


def test_the_gradient_only_touches_label_conditioned_rows_and_moves_them_to_their_class():
    layout = _layout()
    guide = ClassGuide(layout, 2.0, seed=0, device=torch.device("cpu"))
    real = _rows(400, 1)
    for _ in range(300):
        guide.train_step(real)
    fake = _rows(6, 2)
    fake[:, 0] = 0.5  # every fake row looks like class 1
    blocks = np.array([layout.label_block, 0, layout.label_block, 0, layout.label_block, 0])
    cats = np.array([0, 2, 0, 1, 1, 0])  # rows 0 and 2 asked for class 0, row 4 for class 1
    grad = guide.gradient(fake, blocks, cats)
    assert grad.shape == fake.shape
    assert bool((grad[[1, 3, 5]] == 0).all())
    # descending the gradient lowers x where class 0 was asked
    assert grad[0, 0] > 0 and grad[2, 0] > 0
    assert abs(float(grad[4, 0])) < abs(float(grad[0, 0]))
    half = ClassGuide(layout, 1.0, seed=0, device=torch.device("cpu"))
    half.net.load_state_dict(guide.net.state_dict())
    torch.testing.assert_close(half.gradient(fake, blocks, cats) * 2, grad)


@pytest.mark.parametrize("batched", ["off", "on"])
def test_a_guided_fit_trains_samples_and_weight_zero_is_the_unguided_model(tiny_parties,
                                                                         batched):
    plain = make_synthesizer("dagan", **{**TINY, "batched_critics": batched}).fit(
        tiny_parties, label="y")
    zero = make_synthesizer("dagan", **{**TINY, "batched_critics": batched,
                                        "class_loss_weight": 0.0}).fit(tiny_parties, label="y")
    guided = make_synthesizer("dagan", **{**TINY, "batched_critics": batched,
                                          "class_loss_weight": 1.0}).fit(tiny_parties, label="y")
    a, b, c = (s.sample(200, seed=3) for s in (plain, zero, guided))
    assert a.equals(b)
    assert not a.equals(c)
    assert set(c["y"]) <= {"yes", "no"} and len(c) == 200


def test_the_class_guide_is_refused_with_differential_privacy(tiny_parties):
    synth = make_synthesizer("dagan", **TINY, class_loss_weight=1.0, dp_noise_multiplier=1.0)
    with pytest.raises(ConfigError, match="party 'party_a': class_loss_weight=1.0 .*differential"):
        synth.fit(tiny_parties, label="y")


def test_a_negative_weight_is_refused():
    with pytest.raises(ConfigError, match="class_loss_weight"):
        make_synthesizer("dagan", class_loss_weight=-1.0)
