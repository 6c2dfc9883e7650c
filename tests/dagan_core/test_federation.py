"""The party boundary, the weighting rule and the attention mechanisms."""

import inspect

import numpy as np
import pytest
import torch

from dagan_core import make_synthesizer
from dagan_core.config import AttentionConfig
from dagan_core.data.schema import validate_table
from dagan_core.federation import coordinator as coordinator_module
from dagan_core.federation import messages as m
from dagan_core.federation.party import Party, rank_auc
from dagan_core.federation.weighting import global_attention, party_batch_sizes, row_weights
from tests.conftest import TINY


def _fit(parties, strategy="dagan", before=None):
    """Fit step by step; ``before`` sees the trainer before the first epoch."""
    s = make_synthesizer(strategy, **TINY)
    run = s.begin_fit(parties, label="y")
    if before is not None:
        before(run.trainer)
    while run.epochs_left:
        run.run_epoch()
    run.finish()
    encoded = {p: s.encoder.encode(validate_table(p, df, s.encoder.schema), party=p)
               for p, df in parties.items()}
    return s, {"t": run.trainer, "encoded": encoded}


def test_only_allowed_messages_cross_the_boundary(tiny_parties):
    seen = []

    def observe(party, message, reply):
        seen.append((party, message, reply))

    _, box = _fit(tiny_parties, before=lambda t: t.transport.observers.append(observe))
    real_rows = {p: torch.as_tensor(x) for p, x in box["encoded"].items()}
    assert seen
    last_fakes = {}
    for party, message, reply in seen:
        assert isinstance(message, (m.ConditionRequest, m.CriticStep, m.GeneratorStep,
                                    m.FitProbe, m.FitFakes))
        if isinstance(message, (m.CriticStep, m.GeneratorStep, m.FitFakes)):
            last_fakes[party] = message.fake_rows
        if isinstance(reply, m.Conditions):
            for arr in (reply.blocks, reply.categories, reply.party_codes):
                assert isinstance(arr, np.ndarray) and arr.dtype.kind == "i"
        elif isinstance(reply, m.GeneratorFeedback):
            assert reply.row_gradients.shape == message.fake_rows.shape
            assert reply.row_weights.shape == (message.fake_rows.shape[0],)
            # a gradient is never one of the party's encoded rows
            rows = real_rows[party]
            d = torch.cdist(reply.row_gradients.float(), rows.float()).min()
            assert d > 1e-4
        elif isinstance(reply, (m.CriticReport, m.FitReport)):
            for v in vars(reply).values():
                assert isinstance(v, (float, int, tuple))
        else:
            pytest.fail(f"unexpected reply {type(reply).__name__}")


def test_coordinator_holds_no_party_and_no_row(tiny_parties):
    _, box = _fit(tiny_parties)
    coord = box["t"].coordinator
    source = inspect.getsource(coordinator_module)
    assert "Party(" not in source and "import Party" not in source
    rows = {p: x for p, x in box["encoded"].items()}

    def walk(obj, depth=0):
        if depth > 4:
            return
        assert not isinstance(obj, Party)
        if isinstance(obj, (np.ndarray, torch.Tensor)) and obj.ndim == 2:
            arr = obj.detach().cpu().numpy() if isinstance(obj, torch.Tensor) else obj
            for x in rows.values():
                if arr.shape[1] == x.shape[1]:
                    assert not (arr[:, None, :] == x[None, :, :]).all(-1).any()
        if isinstance(obj, dict):
            for v in obj.values():
                walk(v, depth + 1)
        elif isinstance(obj, (list, tuple)):
            for v in obj:
                walk(v, depth + 1)

    for name, value in vars(coord).items():
        if name != "transport":  # the transport is the only way to a party
            walk(value)
    assert not hasattr(coord.transport, "parties")


def test_weighting_rule():
    alpha = np.array([0.5, 0.3, 0.2])
    sizes = party_batch_sizes(alpha, 500, np.array([10, 10, 5]))
    assert list(sizes) == [250, 150, 100] and all(sizes % [10, 10, 5] == 0)
    w = row_weights(0.5, np.ones(250, dtype=np.float32), 25)
    assert np.isclose(w.sum(), 0.5 * 10)  # alpha * pac: mean over packs, scaled by alpha


def test_global_attention_shapes():
    sizes = np.array([1000.0, 100.0, 10.0])
    off = global_attention(sizes, np.zeros(3), AttentionConfig(global_attention=False))
    assert np.allclose(off, 1 / 3)
    prior = global_attention(sizes, np.zeros(3), AttentionConfig(global_rho=1.0, alpha_floor=0))
    assert np.allclose(prior, sizes / sizes.sum())
    gap = global_attention(sizes, np.array([0.0, 0.0, 1.0]),
                           AttentionConfig(global_rho=0.0, global_eta=2.0, alpha_floor=0))
    assert gap[2] > gap[0] and np.isclose(gap[0], gap[1])
    floored = global_attention(sizes, np.zeros(3), AttentionConfig(global_rho=1.0,
                                                                   alpha_floor=0.3))
    assert floored.min() >= 0.1 - 1e-12 and np.isclose(floored.sum(), 1)


def test_rank_auc():
    assert rank_auc(np.array([3.0, 4.0]), np.array([1.0, 2.0])) == 1.0
    assert rank_auc(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.5


def test_local_attention_favours_poorly_fitted_class(tiny_parties):
    s, box = _fit(tiny_parties)
    party = box["t"].parties["party_a"]
    party.class_gap[:] = 0
    base = party.label_probs()
    yes = s.encoder.vocab["y"].index("yes")
    party.class_gap[yes] = 1.0
    assert party.label_probs()[yes] > base[yes]
    # a class the party does not hold is never drawn
    c = box["t"].parties["party_c"]
    assert c.label_probs()[yes] == 0
    blocks, cats, _ = c.sampler.draw(500, np.random.default_rng(0), c.label_probs())
    assert not ((blocks == c.layout.label_block) & (cats == yes)).any()


def test_tiny_party_gets_smaller_pack(tiny_parties):
    tiny_parties["party_c"] = tiny_parties["party_c"].head(12)
    _, box = _fit(tiny_parties)
    assert box["t"].parties["party_c"].pac < TINY["pac"]
    assert box["t"].parties["party_a"].pac == TINY["pac"]
