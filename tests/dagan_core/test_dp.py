"""Differential privacy of the party critics: per-pack DP-SGD, the accountant, fit and resume."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from dagan_core import ConfigError, load_synthesizer, make_synthesizer
from dagan_core.errors import DAGANError
from dagan_core.federation.dp_critic import clip_per_pack, noisy_mean, per_pack_gradients
from dagan_core.nn.critic import Critic, critic_terms
from tests.conftest import TINY

SIGMA = 1.1
DP = {**TINY, "dp_noise_multiplier": SIGMA, "dp_max_grad_norm": 1.0}


def _critic(dropout: float, pac: int = 3, width: int = 5) -> Critic:
    torch.manual_seed(0)
    critic = Critic(width, (8, 6), pac, dropout)
    critic.train()
    return critic


def _packs(n_packs: int, pac: int = 3, width: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    real = torch.randn(n_packs * pac, width, generator=g)
    fake = torch.randn(n_packs * pac, width, generator=g) * 2 + 1
    return real, fake


def _flat(grads: dict[str, torch.Tensor]) -> torch.Tensor:
    return torch.cat([g.reshape(g.shape[0], -1) for g in grads.values()], dim=1)


def test_each_pack_gradient_is_clipped_to_the_bound():
    critic = _critic(dropout=0.5)
    real, fake = _packs(7)
    gen = torch.Generator().manual_seed(2)
    masks = tuple(critic.dropout_masks(7, gen) for _ in range(3))
    mix = torch.rand(7, generator=gen)
    grads, loss, _, _ = per_pack_gradients(critic, real, fake, mix, masks, gp_lambda=10.0)
    assert loss.shape == (7,)
    before = _flat(grads).norm(dim=1)
    clip = float(before.median())  # some packs are clipped, some are not
    clipped, norms = clip_per_pack(grads, clip)
    after = _flat(clipped).norm(dim=1)
    torch.testing.assert_close(norms, before)
    assert bool((after <= clip * (1 + 1e-5)).all())
    small = before < clip
    assert bool(small.any()) and bool((~small).any())
    torch.testing.assert_close(after[small], before[small])  # under the bound: untouched
    torch.testing.assert_close(after[~small], torch.full_like(after[~small], clip), rtol=1e-4,
                               atol=1e-6)


def test_without_noise_or_clipping_it_is_the_ordinary_gradient():
    """Mean of the per-pack gradients == autograd gradient of the usual critic loss."""
    n_packs, lam = 6, 10.0
    critic = _critic(dropout=0.5)
    real, fake = _packs(n_packs)
    gen = torch.Generator().manual_seed(3)
    masks = tuple(critic.dropout_masks(n_packs, gen) for _ in range(3))
    mix = torch.rand(n_packs, generator=gen)
    grads, _, w_dist, gp = per_pack_gradients(critic, real, fake, mix, masks, lam)
    clipped, _ = clip_per_pack(grads, 1e9)
    dp = noisy_mean(clipped, 0.0, 1e9, gen)

    # the same loss by ordinary autograd on the whole batch, with the same masks
    s_real = critic(real, None, masks=masks[0])
    s_fake = critic(fake, None, masks=masks[1])
    e = mix.repeat_interleave(critic.pac)[:, None]
    mixed = (e * real + (1 - e) * fake).requires_grad_(True)
    (g,) = torch.autograd.grad(critic(mixed, None, masks=masks[2]).sum(), mixed,
                               create_graph=True)
    penalty = ((g.reshape(n_packs, -1).norm(dim=1) - 1) ** 2).mean()
    loss = -(s_real.mean() - s_fake.mean()) + lam * penalty
    critic.zero_grad()
    loss.backward()
    for name, p in critic.named_parameters():
        torch.testing.assert_close(dp[name], p.grad, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(w_dist.mean(), (s_real.mean() - s_fake.mean()).detach())
    torch.testing.assert_close(gp.mean(), penalty.detach())


def test_per_pack_loss_is_the_party_critic_loss():
    """Without dropout, draws in the same order give the production loss and gradient."""
    critic = _critic(dropout=0.0)
    real, fake = _packs(5)
    critic.zero_grad()
    gen = torch.Generator().manual_seed(4)
    s_real, s_fake, penalties = critic_terms(critic, real, fake, gen)
    loss = -(s_real.mean() - s_fake.mean()) + 10.0 * penalties.mean()
    loss.backward()
    gen = torch.Generator().manual_seed(4)
    masks = tuple(critic.dropout_masks(5, gen) for _ in range(3))
    grads, per_pack, _, _ = per_pack_gradients(critic, real, fake, torch.rand(5, generator=gen),
                                               masks, 10.0)
    torch.testing.assert_close(per_pack.mean(), loss.detach())
    for name, p in critic.named_parameters():
        torch.testing.assert_close(grads[name].mean(0), p.grad, rtol=1e-4, atol=1e-6)


def test_noise_has_the_configured_scale():
    grads = {"w": torch.zeros(4, 20_000)}
    out = noisy_mean(grads, 2.0, 0.5, torch.Generator().manual_seed(0))["w"]
    assert abs(float(out.std()) - 2.0 * 0.5 / 4) < 0.01
    assert abs(float(out.mean())) < 0.01


@pytest.fixture(scope="module")
def dp_runs(tmp_path_factory):
    """A 2-epoch DP fit, and the same fit stopped after epoch 1 and resumed."""
    from tests.conftest import three_parties

    parties = three_parties()
    ck = tmp_path_factory.mktemp("dp") / "ck"
    full = make_synthesizer("dagan", **DP).fit(parties, label="y")
    make_synthesizer("dagan", **{**DP, "epochs": 1}).fit(parties, label="y", checkpoint_dir=ck)
    resumed = make_synthesizer("dagan", **DP).fit(parties, label="y", checkpoint_dir=ck)
    return parties, full, resumed


def test_epsilon_is_reported_and_matches_an_independent_accountant(dp_runs):
    from opacus.accountants import RDPAccountant

    parties, default_full, _ = dp_runs
    # the default (per-class weights) spends by the label counts' batch shares; the party-level
    # form has uniform alpha under DP (no fit probe), whose rows per step the test knows
    assert all(0 < e < math.inf for e in default_full.history[-1]["dp_epsilon"].values())
    full = make_synthesizer("dagan", class_alpha=False, **DP).fit(parties, label="y")
    steps = sum(len(df) for df in parties.values()) // DP["batch_size"]
    eps = [h["dp_epsilon"] for h in full.history]
    for p, df in parties.items():
        assert 0 < eps[0][p] < eps[1][p] < math.inf
        # uniform alpha -> 60 / 3 = 20 rows per step, 4 packs of 5
        q = 20 / len(df)
        acc = RDPAccountant()
        for epoch in range(2):
            for _ in range(steps):
                acc.step(noise_multiplier=SIGMA, sample_rate=q)
            delta = full.history[epoch]["dp_delta"][p]
            assert delta == pytest.approx(1 / len(df))  # no holdout under DP
            assert eps[epoch][p] == pytest.approx(acc.get_epsilon(delta), rel=1e-9)
    # the smallest party is sampled most often: it spends the most
    assert eps[1]["party_c"] > eps[1]["party_b"] > eps[1]["party_a"]
    assert full.privacy["epsilon"] == eps[1]
    assert full.privacy["noise_multiplier"] == SIGMA


def test_dp_fit_samples_and_saves_its_epsilon(dp_runs, tmp_path):
    parties, full, _ = dp_runs
    rows = full.sample(200, seed=0)
    assert len(rows) == 200 and set(rows["party"]) <= set(parties)
    assert np.isfinite(full.history[-1]["generator_loss"])
    assert all(g == 0.0 for g in full.history[-1]["fit_gap"].values())  # probe skipped
    full.save(tmp_path / "m")
    saved = json.loads((tmp_path / "m" / "privacy.json").read_text())
    assert saved["epsilon"] == full.privacy["epsilon"]
    again = load_synthesizer(tmp_path / "m")
    assert again.privacy == full.privacy
    assert again.config.privacy.dp_noise_multiplier == SIGMA


def test_resume_continues_the_epsilon(dp_runs):
    _, full, resumed = dp_runs
    assert [h["epoch"] for h in resumed.history] == [0, 1]
    assert [h["dp_epsilon"] for h in resumed.history] == [h["dp_epsilon"] for h in full.history]
    for (k, a), b in zip(full.model.generators[0].state_dict().items(),
                         resumed.model.generators[0].state_dict().values()):
        assert torch.equal(a, b), k
    assert resumed.privacy == full.privacy


def test_resuming_a_run_without_dp_under_dp_is_refused(tmp_path):
    from tests.conftest import make_party

    parties = {"a": make_party(60, 1, 0.3), "b": make_party(50, 2, 0.5)}
    cfg = {**TINY, "epochs": 1, "critic_dims": (8,), "generator_dims": (8,)}
    make_synthesizer("dagan", **cfg).fit(parties, label="y", checkpoint_dir=tmp_path)
    with pytest.raises(DAGANError, match="without differential privacy"):
        make_synthesizer("dagan", **{**cfg, "epochs": 2, "dp_noise_multiplier": 1.0}).fit(
            parties, label="y", checkpoint_dir=tmp_path)


def test_dp_draws_distinct_rows_and_keeps_no_holdout():
    from dagan_core.federation.party import Party
    from tests.conftest import make_party

    parties = {"a": make_party(100, 1, 0.3)}
    s = make_synthesizer("dagan", **{**DP, "epochs": 1})
    s.fit(parties, label="y")  # builds the encoder
    encoded = s.encoder.encode(parties["a"], party="a")
    party = Party("a", encoded, s.encoder.layout, s.model.config, party_codes=np.zeros(100, int),
                  n_codes=1, seed=0, device=torch.device("cpu"))
    assert party._hold_rows is None and len(party._rows) == 100
    blocks, cats, rows = party.dp.draw(80, party.rng)
    assert len(set(rows.tolist())) == 80
    np.testing.assert_array_equal(cats, party.dp.categories[rows, blocks])
    _, _, rows = party.dp.draw(130, party.rng)  # more than the party holds
    assert len(set(rows[:100].tolist())) == 100


@pytest.mark.parametrize(("name", "value"), [
    ("dp_noise_multiplier", -1.0), ("dp_noise_multiplier", 0), ("dp_noise_multiplier", "1"),
    ("dp_noise_multiplier", math.nan), ("dp_max_grad_norm", 0.0), ("dp_max_grad_norm", None),
    ("dp_delta", 1.5), ("dp_delta", 0.0), ("dp_delta", True),
])
def test_bad_dp_config_names_field_and_value(name, value):
    with pytest.raises(ConfigError, match=rf"{name}={value!r}".replace("(", r"\(")):
        make_synthesizer("dagan", **{name: value})
