"""The party boundary, beyond tests/dagan_core/test_federation.py: the transport refuses anything
but the documented replies, the messages carry exactly the documented fields, every byte is
counted, and nothing a saved model or an epoch checkpoint holds is a party's row or cell (other than
what docs/federation.md lists: each party's minimum and maximum per continuous column)."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
import torch

from dagan_core import make_synthesizer
from dagan_core.errors import DAGANError
from dagan_core.federation import messages as m
from dagan_core.federation.transport import InProcessTransport
from dagan_core.synthesizers.trainers import FederatedTrainer
from tests.conftest import TINY

DOC = Path(__file__).resolve().parents[2] / "docs" / "federation.md"

# every field of every message, as docs/federation.md describes them
DOCUMENTED = {
    m.ConditionRequest: ["n", "label_probs"],
    m.CriticStep: ["fake_rows"],
    m.GeneratorStep: ["fake_rows"],
    m.FitProbe: ["max_rows"],
    m.FitFakes: ["fake_rows"],
    m.Conditions: ["blocks", "categories", "party_codes"],
    m.CriticReport: ["loss", "wasserstein", "gradient_penalty"],
    m.GeneratorFeedback: ["row_gradients", "row_weights", "loss"],
    m.FitReport: ["gap", "class_gaps", "holdout_rows", "marginal_gap", "heldout_f1"],
}


def test_messages_carry_exactly_the_documented_fields():
    text = DOC.read_text()
    assert set(m.PARTY_REPLIES) == {m.Conditions, m.CriticReport, m.GeneratorFeedback,
                                    m.FitReport}
    for kind, names in DOCUMENTED.items():
        assert [f.name for f in fields(kind)] == names, kind.__name__
        assert f"`{kind.__name__}" in text, f"{kind.__name__} is not described in {DOC.name}"


class _Leaky:
    def __init__(self, reply):
        self.reply = reply

    def handle(self, message):
        return self.reply


@pytest.mark.parametrize("reply", [np.zeros((3, 4)), {"rows": [1, 2]}, torch.ones(2, 2), 1.5],
                         ids=["array", "dict", "tensor", "float"])
def test_transport_refuses_any_other_reply(reply):
    transport = InProcessTransport({"p": _Leaky(reply)})
    seen = []
    transport.observers.append(lambda *a: seen.append(a))

    with pytest.raises(DAGANError, match="party 'p' replied with a forbidden message type"):
        transport.send("p", m.ConditionRequest(4))

    assert transport.reset_counters() == 0 and transport.messages == 0 and not seen


def test_every_byte_exchanged_is_counted(tiny_parties):
    observed = []
    original = FederatedTrainer.__init__

    def spy(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.transport.observers.append(lambda p, msg, reply: observed.append((msg, reply)))

    FederatedTrainer.__init__ = spy
    try:
        synth = make_synthesizer("dagan", **TINY).fit(tiny_parties, label="y")
    finally:
        FederatedTrainer.__init__ = original

    counted = sum(m.message_bytes(msg) + m.message_bytes(reply) for msg, reply in observed)
    assert counted == sum(h["bytes_exchanged"] for h in synth.history) > 0


def _numbers(obj, out: list[float]) -> list[float]:
    """Every float in a JSON document or a (nested) state: JSON floats, tensors, arrays."""
    if isinstance(obj, bool | int | str) or obj is None:
        return out
    if isinstance(obj, float):
        out.append(obj)
    elif isinstance(obj, torch.Tensor):
        if obj.is_floating_point():
            out.extend(obj.detach().double().flatten().tolist())
    elif isinstance(obj, np.ndarray):
        if obj.dtype.kind == "f":
            out.extend(obj.astype(float).ravel().tolist())
    elif isinstance(obj, dict):
        for value in obj.values():
            _numbers(value, out)
    elif isinstance(obj, list | tuple):
        for value in obj:
            _numbers(value, out)
    return out


def _matrices(obj, width: int, out: list[np.ndarray]) -> list[np.ndarray]:
    """Every 2-D float tensor or array whose rows have ``width`` values."""
    if isinstance(obj, torch.Tensor | np.ndarray):
        arr = obj.detach().cpu().numpy() if isinstance(obj, torch.Tensor) else obj
        if arr.ndim == 2 and arr.shape[1] == width and arr.dtype.kind == "f":
            out.append(arr)
    elif isinstance(obj, dict):
        for value in obj.values():
            _matrices(value, width, out)
    elif isinstance(obj, list | tuple):
        for value in obj:
            _matrices(value, width, out)
    return out


def test_saved_model_and_epoch_checkpoint_hold_no_party_row_or_cell(tiny_parties, tmp_path):
    synth = make_synthesizer("dagan", **TINY)
    synth.fit(tiny_parties, label="y", checkpoint_dir=tmp_path / "state")
    synth.save(tmp_path / "model")
    files = sorted((tmp_path / "model").iterdir()) + sorted((tmp_path / "state").rglob("*.*"))
    assert {f.name for f in files} >= {"encoder.json", "summaries.json", "generators.pt",
                                       "history.json", "state.pt", "progress.json"}

    # every value of the continuous column except each party's documented minimum and maximum
    interior = set()
    for table in tiny_parties.values():
        values = table["amount"].astype(float)
        interior |= set(values[(values > values.min()) & (values < values.max())])
    assert len(interior) > 300
    interior32 = {float(np.float32(v)) for v in interior}
    encoded = np.concatenate([synth.encoder.encode(t, party=p) for p, t in tiny_parties.items()])
    width = synth.encoder.layout.data_dim

    for f in files:
        if f.suffix == ".json":
            content = json.loads(f.read_text())
            found = [v for v in _numbers(content, []) if v in interior]
            assert not found, f"{f.name} holds party values {found[:5]}"
        else:
            state = torch.load(f, weights_only=False)
            found = [v for v in _numbers(state, []) if v in interior or v in interior32]
            assert not found, f"{f.name} holds party values {found[:5]}"
            for matrix in _matrices(state, width, []):
                same = (matrix[:, None, :] == encoded[None, :, :]).all(-1)
                assert not same.any(), f"{f.name} holds an encoded party row"
