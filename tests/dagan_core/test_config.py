import pytest

from dagan_core import ConfigError, SynthesizerConfig, make_synthesizer


def test_unknown_strategy_lists_valid_ones():
    with pytest.raises(ConfigError, match="valid strategies: dagan, mdgan"):
        make_synthesizer("gan9000")


def test_unknown_hyperparameter_lists_valid_names():
    with pytest.raises(ConfigError, match="epochz.*valid names:.*epochs"):
        make_synthesizer("dagan", epochz=3)


def test_invalid_value_names_parameter():
    with pytest.raises(ConfigError, match="batch_size=1"):
        make_synthesizer("dagan", batch_size=1)


def test_presets_and_round_trip():
    cfg = SynthesizerConfig.from_flat("mdgan", epochs=7)
    assert not cfg.attention.local_attention and not cfg.attention.global_attention
    assert cfg.train.epochs == 7
    assert SynthesizerConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.replace(seed=3).train.seed == 3
