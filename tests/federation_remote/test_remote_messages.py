"""The wire format: typed frames only, checked shapes, dtypes and values, retries not re-applied."""

from __future__ import annotations

import json
import pickle
import struct

import grpc
import numpy as np
import pytest
import torch

from dagan_core.federation import messages as m
from dagan_core.federation.remote import codec
from dagan_core.federation.remote import control as c
from dagan_core.federation.remote.client import RemoteTransport
from dagan_core.federation.remote.errors import CodecError, ProtocolError
from dagan_core.federation.remote.server import EXCHANGE
from tests.federation_remote.party_process import CountingParty, serving

EXAMPLES = [
    m.ConditionRequest(4), m.ConditionRequest(4, (0.25, 0.0, 0.75)),
    m.CriticStep(torch.randn(4, 3)), m.GeneratorStep(torch.randn(4, 3)),
    m.FitProbe(10), m.FitFakes(torch.randn(2, 3)),
    m.Conditions(np.arange(4), np.arange(4), np.zeros(4, dtype=np.int64)),
    m.CriticReport(0.1, -0.2, 0.3),
    m.GeneratorFeedback(torch.randn(4, 3), np.ones(4, np.float32), 1.5),
    m.FitReport(0.2, (0.1, float("nan")), 10, 0.3, 0.71),
    m.FitReport(0.0, (float("nan"),), 0, float("nan"), float("nan")),
    c.Handshake(1, "sha256:ab", "y", None, {"strategy": "dagan", "train": {"seed": 3}}),
    c.PartyHello(1, "party_a", "sha256:ab", {"y": ["discrete", "object"]},
                 {"n_rows": 4, "category_counts": {"y": [["no", 3], [True, 1]]}}),
    c.Setup("0f" * 8, {"strategy": "dagan"}, {"vocab": {"y": ["no", "yes"]}}, 7, 1, 3),
    c.SetupDone(40, 5), c.SetupDone(40, 5, (30, 10)), c.Resume("0f" * 8, 2),
    c.Resumed(2, [0.25, 0.75], None),
    c.EpochEnd("0f" * 8, 0), c.EpochSaved(0, None, [1.5, 1e-5]),
    c.StatusRequest(1, "sha256:ab", 3, 0),
    c.PartyStatus(1, "party_a", "sha256:ab", {"rows": 4, "rule_failures": {"age: between": 1}},
                  None, None, None),
]


def _frame(header: dict, payload: bytes = b"") -> bytes:
    head = json.dumps(header).encode()
    return struct.pack(">4sHI", b"DGF1", codec.VERSION, len(head)) + head + payload


def _equal(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, tuple):
        return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)
    if isinstance(a, float) and a != a:  # NaN crosses as NaN
        return isinstance(b, float) and b != b
    return a == b and type(a) is type(b)


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda x: type(x).__name__)
def test_every_message_round_trips_exactly(message):
    name = type(message).__name__
    direction = "request" if name in codec.REQUESTS else "reply"
    frame = codec.decode(codec.encode(message, session="s", seq=7), direction=direction)
    assert (frame.session, frame.seq) == ("s", 7)
    assert type(frame.message) is type(message)
    for f in codec.field_names(type(message)):
        assert _equal(getattr(message, f), getattr(frame.message, f)), f


def test_schema_covers_exactly_the_message_fields():
    for table in (codec.REQUESTS, codec.REPLIES):
        for cls, schema in table.values():
            assert list(schema) == codec.field_names(cls)
    training = {cls for cls, _ in codec.REPLIES.values()} - set(c.CONTROL_REPLIES)
    assert training == set(m.PARTY_REPLIES)


@pytest.mark.parametrize("message, error", [
    (c.Handshake(1, "fp", "y", {"x": float("nan")}, {}), "not plain JSON"),
    (c.Handshake(1, "fp", "y", {1: "a"}, {}), "non-string keys"),
    (c.Handshake(1, b"fp", "y", None, {}), "must be a string"),
    (c.SetupDone(-1, 5), "non-negative"),
])
def test_malformed_setup_messages_are_not_encoded(message, error):
    with pytest.raises(CodecError, match=error):
        codec.encode(message, session="s", seq=1)


@pytest.mark.parametrize("message, error", [
    (m.CriticStep(torch.tensor([[0.0, float("nan")]])), "non-finite"),
    (m.GeneratorFeedback(torch.tensor([[float("inf")]]), np.ones(1, np.float32), 0.0),
     "non-finite"),
    (m.CriticReport(float("nan"), 0.0, 0.0), "not finite"),
    (m.CriticStep(torch.zeros(2, 2, 2)), "expected 2 dimension"),
    (m.CriticStep(torch.zeros(2, 2, dtype=torch.float16)), "dtype float16"),
    (m.Conditions(np.zeros(2), np.zeros(2, int), np.zeros(2, int)), "dtype float64"),
    (m.ConditionRequest(-1), "non-negative"),
    ("a string", "unknown message type"),
])
def test_malformed_messages_are_not_encoded(message, error):
    with pytest.raises(CodecError, match=error):
        codec.encode(message, session="s", seq=1)


ROWS = {"dtype": "float32", "shape": [2, 2]}


@pytest.mark.parametrize("data, error", [
    (pickle.dumps(m.ConditionRequest(1)), "not a federation frame"),
    (struct.pack(">4sHI", b"DGF1", 1, 2) + b"{}", "schema version 1"),
    (struct.pack(">4sHI", b"DGF1", 3, 2) + b"{}", "schema version 3"),
    (_frame({"type": "Evil", "session": "s", "seq": 1, "fields": {}}), "unknown request type"),
    (_frame({"type": "Conditions", "session": "s", "seq": 1, "fields": {}}),
     "unknown request type"),
    (_frame({"type": "FitProbe", "session": "s", "seq": 1,
             "fields": {"max_rows": {"value": 1}, "extra": {"value": 2}}}), "must have fields"),
    (_frame({"type": "CriticStep", "session": "s", "seq": 1,
             "fields": {"fake_rows": {"dtype": "object", "shape": [2, 2]}}}), "dtype object"),
    (_frame({"type": "CriticStep", "session": "s", "seq": 1,
             "fields": {"fake_rows": {"dtype": "float32", "shape": [4]}}}, b"\0" * 16),
     "expected 2"),
    (_frame({"type": "CriticStep", "session": "s", "seq": 1, "fields": {"fake_rows": ROWS}},
            b"\0" * 15), "truncated"),
    (_frame({"type": "CriticStep", "session": "s", "seq": 1, "fields": {"fake_rows": ROWS}},
            b"\0" * 17), "unexpected bytes"),
    (_frame({"type": "CriticStep", "session": "s", "seq": 1, "fields": {"fake_rows": ROWS}},
            np.array([0, 1, np.inf, 2], np.float32).tobytes()), "non-finite"),
    (_frame({"type": "FitProbe", "session": "s", "fields": {"max_rows": {"value": 1}}}),
     "sequence number"),
])
def test_malformed_frames_are_refused(data, error):
    with pytest.raises(CodecError, match=error):
        codec.decode(data, direction="request")


def test_the_party_refuses_malformed_requests_before_handling_them(certs):
    party = CountingParty(width=3)
    with serving({"party_a": party}, certs) as ep:
        transport = RemoteTransport(ep, certs.coordinator, timeout=2, retry_for=0.3)
        with pytest.raises(ProtocolError, match="party 'party_a'.*before any conditions"):
            transport.send("party_a", m.CriticStep(torch.zeros(2, 3)))
        transport.send("party_a", m.ConditionRequest(2))
        with pytest.raises(ProtocolError, match="party 'party_a'.*width 4, expected 3"):
            transport.send("party_a", m.CriticStep(torch.zeros(2, 4)))
        with pytest.raises(ProtocolError, match="3 fake rows for 2 conditions"):
            transport.send("party_a", m.CriticStep(torch.zeros(3, 3)))
        with pytest.raises(ProtocolError, match="party 'party_a'.*non-finite"):
            transport.send("party_a", m.CriticStep(torch.full((2, 3), float("nan"))))
        transport.close()
    assert party.applied == ["ConditionRequest"]


class _BadParty(CountingParty):
    def __init__(self, gradients):
        super().__init__()
        self.gradients = gradients

    def handle(self, message):
        reply = super().handle(message)
        if isinstance(message, m.GeneratorStep):
            return m.GeneratorFeedback(self.gradients, reply.row_weights, reply.loss)
        return reply


@pytest.mark.parametrize("gradients, error", [
    (torch.ones(2, 2), r"gradients of shape \(2, 2\).*for fake rows \(2, 3\)"),
    (torch.ones(2, 3, dtype=torch.float64), "float64"),
    (torch.full((2, 3), float("nan")), "reply to GeneratorStep was refused.*non-finite"),
])
def test_a_party_reply_of_wrong_shape_or_values_is_refused(certs, gradients, error):
    with serving({"party_b": _BadParty(gradients)}, certs) as ep:
        transport = RemoteTransport(ep, certs.coordinator, timeout=2, retry_for=0.3)
        transport.send("party_b", m.ConditionRequest(2))
        with pytest.raises(ProtocolError, match="party 'party_b' at GeneratorStep.*" + error):
            transport.send("party_b", m.GeneratorStep(torch.zeros(2, 3)))
        transport.close()


def test_oversized_messages_are_refused(certs):
    # the coordinator's limit: a reply larger than it accepts
    with serving({"party_a": CountingParty(width=3)}, certs) as ep:
        transport = RemoteTransport(ep, certs.coordinator, timeout=2, retry_for=0.3,
                                    max_message_bytes=4096)
        with pytest.raises(ProtocolError, match="party 'party_a'.*too large"):
            transport.send("party_a", m.ConditionRequest(1000))
        with pytest.raises(ProtocolError, match="party 'party_a'.*too large"):
            transport.send("party_a", m.CriticStep(torch.zeros(1000, 3)))
        transport.close()
    # the party's limit: a request larger than it accepts
    party = CountingParty(width=3)
    with serving({"party_a": party}, certs, max_message_bytes=4096) as ep:
        transport = RemoteTransport(ep, certs.coordinator, timeout=2, retry_for=0.3)
        transport.send("party_a", m.ConditionRequest(100))
        with pytest.raises(ProtocolError, match="party 'party_a'.*too large"):
            transport.send("party_a", m.CriticStep(torch.zeros(100, 30)))
        transport.close()
    assert party.applied == ["ConditionRequest"]


def test_a_retried_request_is_answered_from_the_cache(certs):
    party = CountingParty()
    request = codec.encode(m.ConditionRequest(3), session="run-1", seq=1)
    with serving({"party_a": party}, certs) as ep:
        ca, cert, key = certs.coordinator.read()
        creds = grpc.ssl_channel_credentials(ca, key, cert)
        options = [("grpc.ssl_target_name_override", "party_a")]
        with grpc.secure_channel(ep["party_a"], creds, options=options) as channel:
            call = channel.unary_unary(EXCHANGE)
            first, again = call(request, timeout=2), call(request, timeout=2)
            with pytest.raises(grpc.RpcError, match="out of order"):
                call(codec.encode(m.ConditionRequest(3), session="run-1", seq=5), timeout=2)
    assert first == again
    assert party.applied == ["ConditionRequest"]


def test_dagan_core_does_not_import_grpc_or_cryptography():
    import subprocess
    import sys

    code = ("import sys, dagan_core, dagan_core.synthesizers, dagan_core.federation.transport; "
            "print(sorted(m for m in ('grpc', 'cryptography') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "[]"
