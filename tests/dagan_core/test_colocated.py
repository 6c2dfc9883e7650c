"""Co-located parties' critics run as one bank: same arithmetic as one critic per party."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from dagan_core import make_synthesizer
from dagan_core.data.schema import validate_table
from dagan_core.nn.critic import Critic, critic_terms
from dagan_core.synthesizers.trainers import FederatedTrainer
from tests.conftest import TINY


def _inputs(tiny_parties, **hp):
    """Encoded party rows, layout and config of a tiny dagan setup (no training)."""
    s = make_synthesizer("dagan", **{**TINY, **hp})
    enc = s.begin_fit(tiny_parties, label="y").encoder
    encoded = {p: enc.encode(validate_table(p, df, enc.schema), party=p)
               for p, df in tiny_parties.items()}
    return encoded, enc.layout, s.config


def _trainer(encoded, layout, config, batched: bool) -> FederatedTrainer:
    mode = "on" if batched else "off"
    cfg = replace(config, train=replace(config.train, batched_critics=mode))
    return FederatedTrainer(encoded, layout, cfg, np.random.SeedSequence(7), torch.device("cpu"))


def _critics(trainer):
    return {p: party.critic.member_state(party.member) for p, party in trainer.parties.items()}


def test_parties_of_one_pack_size_share_one_bank(tiny_parties):
    encoded, layout, config = _inputs(tiny_parties)
    t = _trainer(encoded, layout, config, batched=True)
    assert len(t.colocated) == 1
    banks = {id(party.critic) for party in t.parties.values()}
    assert len(banks) == 1
    assert sorted(party.member for party in t.parties.values()) == [0, 1, 2]
    assert not _trainer(encoded, layout, config, batched=False).colocated
    auto = replace(config, train=replace(config.train, batched_critics="auto"))
    on_cpu = FederatedTrainer(encoded, layout, auto, np.random.SeedSequence(7),
                              torch.device("cpu"))
    assert not on_cpu.colocated  # the bank measured slower on CPU


def test_batched_round_equals_one_critic_per_party(tiny_parties):
    """Without random draws in the critic (no dropout, no GP weight) a batched step gives the
    parties' own critics and the generator exactly the weights of sequential steps, with parties
    of different batch sizes (padded packs must not leak into any mean)."""
    encoded, layout, config = _inputs(tiny_parties, critic_dropout=0.0, gp_lambda=0.0)
    seq = _trainer(encoded, layout, config, batched=False)
    bat = _trainer(encoded, layout, config, batched=True)
    for t in (seq, bat):
        t.coordinator.alpha = np.array([0.6, 0.3, 0.1])  # unequal party batches
    before = _critics(bat)
    for name, state in _critics(seq).items():
        for key, v in state.items():
            assert torch.equal(v, before[name][key])
    for i in range(3):
        seq.coordinator.step({})
        bat.coordinator.step({})
        if i == 0:  # the generator's gradients (Adam would amplify round-off in later weights)
            for x, y in zip(seq.coordinator.generator.parameters(),
                            bat.coordinator.generator.parameters()):
                torch.testing.assert_close(y.grad, x.grad, rtol=1e-3, atol=1e-6)
    after_seq, after_bat = _critics(seq), _critics(bat)
    for name in after_seq:
        for key, v in after_seq[name].items():
            assert not torch.equal(v, before[name][key])  # it trained
            torch.testing.assert_close(after_bat[name][key], v, rtol=1e-4, atol=1e-5)


def test_bank_penalties_equal_each_members_own():
    gen = torch.Generator().manual_seed(0)
    bank = Critic(6, (8, 8), pac=2, dropout_p=0.0, members=3)
    bank.seeded_reset_(gen)
    rows = torch.randn(3, 10, 6, generator=gen)
    # real == fake makes the interpolates independent of the random mixing weights
    together = critic_terms(bank, rows, rows, gen)
    for k in range(3):
        alone = critic_terms(bank, rows[k], rows[k], gen, member=k)
        for a, b in zip(together, alone):
            torch.testing.assert_close(a[k], b)
        torch.testing.assert_close(bank(rows, gen)[k], bank(rows[k], gen, member=k))


def test_checkpoint_format_is_the_same_batched_or_not(tiny_parties):
    encoded, layout, config = _inputs(tiny_parties)
    bat = _trainer(encoded, layout, config, batched=True)
    for _ in range(2):
        bat.coordinator.step({})
    state = bat.state_dict()
    seq = _trainer(encoded, layout, config, batched=False)
    seq.load_state_dict(state)
    for name, saved in _critics(bat).items():
        for key, v in saved.items():
            assert torch.equal(_critics(seq)[name][key], v)
        moments = seq.parties[name].state_dict()["optimizer"]
        assert set(moments["weights.0"]) == {"step", "exp_avg", "exp_avg_sq"}
        assert torch.equal(moments["weights.0"]["exp_avg"],
                           state["parties"][name]["optimizer"]["weights.0"]["exp_avg"])
    seq.coordinator.step({})  # and it trains on from there


@pytest.mark.parametrize("mode", ["on", "off", "auto"])
def test_fit_and_sample_either_way(tiny_parties, mode):
    s = make_synthesizer("dagan", **TINY, batched_critics=mode)
    s.fit(tiny_parties, label="y")
    rows = s.sample(50, seed=1)
    assert len(rows) == 50
    assert np.isfinite(s.history[-1]["generator_loss"])
