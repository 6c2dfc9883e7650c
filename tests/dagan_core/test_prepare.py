"""Preparation as separate steps, the strategy registry and fitting step by step."""

import pandas as pd
import pytest
import torch

from dagan_core import STRATEGIES, ConfigError, InvalidDataError, make_synthesizer
from dagan_core.prepare import (
    agree_schema,
    build_encoder,
    check_prepared,
    party_schema,
    summarize,
)
from dagan_core.strategies import get_strategy, strategy_names
from tests.conftest import TINY


def _prepared(parties, config):
    declared = {p: party_schema(p, df, "y") for p, df in parties.items()}
    schema = agree_schema(declared, "y")
    summaries = {p: summarize(p, df, schema, config) for p, df in parties.items()}
    return build_encoder(schema, summaries.values(), config), summaries


def _same_model(a, b):
    assert a.encoder.to_dict() == b.encoder.to_dict()
    assert [s.to_dict() for s in a.summaries.values()] == [
        s.to_dict() for s in b.summaries.values()]
    for ga, gb in zip(a.model.generators, b.model.generators, strict=True):
        for (k, x), y in zip(ga.state_dict().items(), gb.state_dict().values()):
            assert torch.equal(x, y), k
    pd.testing.assert_frame_equal(a.sample(80, seed=2), b.sample(80, seed=2))


@pytest.mark.parametrize("strategy", ["dagan", "fedsyn"])
def test_prepared_encoder_and_summaries_give_the_same_model(tiny_parties, strategy):
    inside = make_synthesizer(strategy, **TINY).fit(tiny_parties, label="y")
    outside = make_synthesizer(strategy, **TINY)
    encoder, summaries = _prepared(tiny_parties, outside.config)
    outside.fit(tiny_parties, label="y", encoder=encoder,
                summaries=dict(reversed(summaries.items())))  # order of the mapping is free
    _same_model(inside, outside)
    only_summaries = make_synthesizer(strategy, **TINY)
    only_summaries.fit(tiny_parties, label="y", summaries=summaries)
    _same_model(inside, only_summaries)


def test_prepared_summaries_must_match_the_parties(tiny_parties):
    s = make_synthesizer("dagan", **TINY)
    encoder, summaries = _prepared(tiny_parties, s.config)
    del summaries["party_b"]
    with pytest.raises(InvalidDataError, match="missing \\['party_b'\\]"):
        s.fit(tiny_parties, label="y", encoder=encoder, summaries=summaries)
    encoder, summaries = _prepared(tiny_parties, s.config)
    summaries["party_a"], summaries["party_b"] = summaries["party_b"], summaries["party_a"]
    with pytest.raises(InvalidDataError, match="filed under 'party_a'"):
        check_prepared(list(tiny_parties), encoder, summaries)


def test_registry_names_every_strategy():
    assert strategy_names() == STRATEGIES
    assert STRATEGIES == ("dagan", "mdgan", "swift", "fedsyn", "local", "centralized")
    assert [n for n in STRATEGIES if get_strategy(n).gan_per_party] == ["fedsyn", "local"]
    assert [n for n in STRATEGIES if get_strategy(n).privacy_violating] == ["centralized"]
    assert get_strategy("swift").participation == "one"
    assert get_strategy("fedsyn").aggregation == "fedavg"
    with pytest.raises(ConfigError, match="valid strategies: dagan, mdgan"):
        get_strategy("gan")


def test_begin_fit_steps_through_the_same_fit(tiny_parties):
    whole = make_synthesizer("swift", **TINY).fit(tiny_parties, label="y")
    stepped = make_synthesizer("swift", **TINY)
    run = stepped.begin_fit(tiny_parties, label="y")
    assert run.epochs_left == TINY["epochs"] and stepped.model is None
    epochs = []
    while run.epochs_left:
        epochs.append(run.run_epoch().epoch)
    assert epochs == list(range(TINY["epochs"]))
    model = run.finish()
    assert stepped.model is model and model.party_sizes == {
        p: len(df) for p, df in tiny_parties.items()}
    assert model.generators == run.trainer.generators()
    assert [h["generator_loss"] for h in whole.history] == [
        h["generator_loss"] for h in stepped.history]
    _same_model(whole, stepped)
