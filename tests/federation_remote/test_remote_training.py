"""Training over gRPC with mutual TLS equals training in process, bit for bit."""

from __future__ import annotations

import torch

from dagan_core import make_synthesizer
from dagan_core.federation.remote.client import RemoteTransport
from tests.conftest import TINY
from tests.federation_remote.party_process import serving


def _fit(parties, certs=None):
    """Fit TINY; with ``certs``, every party is served over mTLS and reached by gRPC."""
    s = make_synthesizer("dagan", **TINY)
    if certs is None:
        return s.fit(parties, label="y"), None
    run = s.begin_fit(parties, label="y")
    trainer = run.trainer
    with serving(trainer.parties, certs) as endpoints:
        transport = RemoteTransport(endpoints, certs.coordinator, timeout=10, retry_for=5)
        trainer.transport = trainer.coordinator.transport = transport
        try:
            while run.epochs_left:
                run.run_epoch()
            run.finish()
        finally:
            transport.close()
    return s, transport


def test_remote_fit_equals_in_process_fit(tiny_parties, certs):
    local, _ = _fit(tiny_parties)
    remote, transport = _fit(tiny_parties, certs)
    a = local.model.generators[0].state_dict()
    b = remote.model.generators[0].state_dict()
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    for x, y in zip(local.history, remote.history):
        assert x["generator_loss"] == y["generator_loss"]
    rows_a = local.sample(50, seed=3)
    rows_b = remote.sample(50, seed=3)
    assert rows_a.equals(rows_b)
    # every message type crossed the wire and was counted, in both directions
    assert set(transport.bytes_by_type) == {
        "ConditionRequest", "Conditions", "CriticStep", "CriticReport", "GeneratorStep",
        "GeneratorFeedback", "FitProbe", "FitFakes", "FitReport"}
    assert all(v > 0 for v in transport.bytes_by_type.values())
