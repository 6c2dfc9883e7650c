"""The moving average of the generator's weights (``generator_ema``): what it averages, what it
releases, and that a resumed fit carries it."""

import pandas as pd
import pytest
import torch

from dagan_core import make_synthesizer
from dagan_core.errors import ConfigError
from tests.conftest import TINY


def _params(net: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in net.parameters()]


@pytest.mark.parametrize("decay", [1.0, -0.1])
def test_a_decay_outside_0_1_is_refused(decay):
    with pytest.raises(ConfigError, match="generator_ema"):
        make_synthesizer("dagan", **{**TINY, "generator_ema": decay})


def test_without_the_average_the_live_generator_is_released(tiny_parties):
    run = make_synthesizer("dagan", **{**TINY, "generator_ema": 0.0}).begin_fit(
        tiny_parties, label="y")
    coordinator = run.trainer.coordinator
    assert coordinator.averaged is None
    assert run.trainer.generators() == [coordinator.generator]


def test_the_average_follows_the_live_weights_step_by_step(tiny_parties):
    decay = 0.9
    run = make_synthesizer("dagan", **{**TINY, "generator_ema": decay}).begin_fit(
        tiny_parties, label="y")
    coordinator = run.trainer.coordinator
    expected = _params(coordinator.generator)  # the average starts at the initial weights
    for t in range(4):
        coordinator.step({})
        d = min(decay, (1 + t) / (10 + t))
        expected = [d * e + (1 - d) * live
                    for e, live in zip(expected, _params(coordinator.generator))]
    for got, want in zip(_params(coordinator.averaged), expected, strict=True):
        torch.testing.assert_close(got, want)
    # the average is not the live generator, and the optimizer never touched it
    assert any(not torch.equal(a, b) for a, b in zip(_params(coordinator.averaged),
                                                     _params(coordinator.generator)))
    assert all(p.grad is None and not p.requires_grad for p in coordinator.averaged.parameters())
    assert coordinator.averaged_steps == 4


def test_the_fitted_model_releases_the_average(tiny_parties):
    synth = make_synthesizer("dagan", **{**TINY, "generator_ema": 0.9, "patience": 0})
    run = synth.begin_fit(tiny_parties, label="y")
    while run.epochs_left:
        run.run_epoch()
    model = run.finish()
    coordinator = run.trainer.coordinator
    (released,) = model.generators
    for a, b in zip(_params(released), _params(coordinator.averaged), strict=True):
        assert torch.equal(a, b)
    assert any(not torch.equal(a, b) for a, b in zip(_params(released),
                                                     _params(coordinator.generator)))
    assert len(synth.sample(40, seed=1)) == 40


def test_a_resumed_fit_continues_the_average(tiny_parties, tmp_path):
    cfg = {**TINY, "epochs": 3, "generator_ema": 0.9}
    whole = make_synthesizer("dagan", **cfg).fit(tiny_parties, label="y")
    make_synthesizer("dagan", **{**cfg, "epochs": 1}).fit(tiny_parties, label="y",
                                                         checkpoint_dir=tmp_path)
    resumed = make_synthesizer("dagan", **cfg).fit(tiny_parties, label="y",
                                                   checkpoint_dir=tmp_path)
    assert [h["epoch"] for h in resumed.history] == [0, 1, 2]
    for a, b in zip(whole.model.generators, resumed.model.generators, strict=True):
        for (k, x), y in zip(a.state_dict().items(), b.state_dict().values()):
            assert torch.equal(x, y), k
    pd.testing.assert_frame_equal(whole.sample(50, seed=3), resumed.sample(50, seed=3))


def test_fedsyn_releases_the_fedavg_weights_not_a_partys_average(tiny_parties):
    assert make_synthesizer("dagan").config.train.generator_ema == 0.99
    assert make_synthesizer("fedsyn").config.train.generator_ema == 0.0
    run = make_synthesizer("fedsyn", **TINY).begin_fit(tiny_parties, label="y")
    first = run.trainer.locals[run.trainer.names[0]].coordinator
    assert first.averaged is None and run.trainer.generators() == [first.generator]
