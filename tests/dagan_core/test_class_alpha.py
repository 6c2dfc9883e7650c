"""Per-class cross-party weights (AttentionConfig.class_alpha): the weighting math and a fit."""

import numpy as np
import pytest

from dagan_core import make_synthesizer
from dagan_core.config import AttentionConfig
from dagan_core.errors import DAGANError
from dagan_core.federation import messages as m
from dagan_core.federation.weighting import class_cell_weights
from tests.conftest import TINY

COUNTS = np.array([[90, 0, 4], [10, 5, 0], [0, 0, 12]])


def test_pooled_limit_is_the_pooled_cell_frequency():
    # share prior 1, true class mix, no fit term, no floor: q is each cell's share of all rows
    att = AttentionConfig(class_alpha=True, class_rho=1.0, local_beta=1.0, alpha_floor=0.0)
    q = class_cell_weights(COUNTS, np.zeros(COUNTS.shape), att)
    np.testing.assert_allclose(q, COUNTS / COUNTS.sum())


def test_a_class_is_weighed_among_its_holders_only():
    att = AttentionConfig(class_alpha=True)
    q = class_cell_weights(COUNTS, np.zeros(COUNTS.shape), att)
    assert q.sum() == pytest.approx(1.0)
    assert (q[COUNTS == 0] == 0).all()
    # class 1 is held by party 1 alone: its whole weight goes there
    pi = np.sqrt(COUNTS.sum(0) / COUNTS.sum())
    assert q[1, 1] == pytest.approx(pi[1] / pi.sum())
    # class 0: share 0.9 / 0.1, floored at 0.25 / 2 holders
    assert q[0, 0] / q[:, 0].sum() == pytest.approx(0.75 * 0.9 + 0.125)
    # share prior 0: equal among holders
    q0 = class_cell_weights(COUNTS, np.zeros(COUNTS.shape), AttentionConfig(class_rho=0.0))
    assert q0[0, 0] == pytest.approx(q0[1, 0])


def test_a_worse_fitted_holder_and_class_gain_weight():
    att = AttentionConfig(class_alpha=True, alpha_floor=0.0)
    gaps = np.zeros(COUNTS.shape)
    base = class_cell_weights(COUNTS, gaps, att)
    gaps[1, 0] = 0.5  # party 1 still separates class-0 rows well
    q = class_cell_weights(COUNTS, gaps, att)
    share = lambda w: w[1, 0] / w[:, 0].sum()  # noqa: E731
    # softmax(log 0.1 + 2 * 0.5, log 0.9): 0.1 e / (0.1 e + 0.9)
    assert share(q) == pytest.approx(0.1 * np.e / (0.1 * np.e + 0.9))
    assert share(q) > share(base) and q[:, 0].sum() > base[:, 0].sum()
    # NaN gaps (class not measured) count as 0
    gaps[2, 1] = np.nan
    assert np.isfinite(class_cell_weights(COUNTS, gaps, att)).all()


def test_fit_asks_each_party_for_its_cells_only(tiny_parties):
    requests = []
    s = make_synthesizer("dagan", class_alpha=True, **{**TINY, "epochs": 1})
    run = s.begin_fit(tiny_parties, label="y")
    trainer = run.trainer
    trainer.transport.observers.append(
        lambda p, msg, reply: requests.append((p, msg, reply))
        if isinstance(msg, m.ConditionRequest) else None)
    while run.epochs_left:
        run.run_epoch()
    run.finish()
    coord = trainer.coordinator
    label = s.encoder.layout.label_block
    yes = s.encoder.vocab["y"].index("yes")
    assert requests
    for party, msg, reply in requests:
        probs = np.asarray(msg.label_probs)
        assert probs.sum() == pytest.approx(1.0)
        on_label = reply.blocks == label
        if party == "party_c":  # holds no 'yes': never asked for it, never draws it
            assert probs[yes] == 0 and not (reply.categories[on_label] == yes).any()
    q = class_cell_weights(coord.class_counts, coord.class_gaps, s.config.attention)
    np.testing.assert_allclose(coord.alpha, q.sum(axis=1))
    assert (coord.class_gaps > 0).any()  # the fit gaps reached the weights
    logged = {p: list(v.values()) for p, v in s.history[-1]["pi"].items()}
    assert logged == {p: list(mix) for p, mix in zip(tiny_parties, coord.label_mix)}
    assert len(s.sample(50, seed=1)) == 50
    party_c = trainer.parties["party_c"]
    with pytest.raises(DAGANError, match="party 'party_c': refused label mix"):
        party_c.handle(m.ConditionRequest(5, tuple(np.eye(len(probs))[yes])))


def test_dagan_asks_for_class_mixes_by_default_and_the_party_level_form_sends_none(
        tiny_parties):
    assert make_synthesizer("dagan").config.attention.class_alpha
    requests = []
    s = make_synthesizer("dagan", class_alpha=False, **{**TINY, "epochs": 1})
    run = s.begin_fit(tiny_parties, label="y")
    run.trainer.transport.observers.append(
        lambda p, msg, reply: requests.append(msg) if isinstance(msg, m.ConditionRequest) else None)
    run.run_epoch()
    assert requests and all(r.label_probs == () for r in requests)
    assert run.trainer.coordinator.class_counts is None


def test_resume_keeps_the_class_gaps(tiny_parties, tmp_path):
    cfg = {**TINY, "class_alpha": True}
    full = make_synthesizer("dagan", **cfg).fit(tiny_parties, label="y")
    make_synthesizer("dagan", **{**cfg, "epochs": 1}).fit(tiny_parties, label="y",
                                                         checkpoint_dir=tmp_path)
    resumed = make_synthesizer("dagan", **cfg).fit(tiny_parties, label="y",
                                                   checkpoint_dir=tmp_path)
    assert [h["epoch"] for h in resumed.history] == [0, 1]
    assert full.history[-1]["alpha"] == resumed.history[-1]["alpha"]
    assert full.sample(60, seed=1).equals(resumed.sample(60, seed=1))


def test_beta_0_starts_every_class_even_whatever_its_frequency():
    # class prior exponent 0: before any fit gap, each class gets the same total weight (a rare
    # class is trained as often as the majority); a user's beta wins over the strategy's
    att = make_synthesizer("dagan", local_beta=0.0).config.attention
    assert att.class_alpha and att.local_beta == 0.0
    q = class_cell_weights(COUNTS, np.zeros(COUNTS.shape), att)
    np.testing.assert_allclose(q.sum(axis=0), 1 / 3)
    assert make_synthesizer("dagan").config.attention.local_beta == AttentionConfig().local_beta
