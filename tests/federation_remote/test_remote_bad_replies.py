"""A real party whose generator feedback goes wrong mid-training: the step is refused with an
error naming the party, and the coordinator's generator is left as it was before that step."""

from __future__ import annotations

import pytest
import torch

from dagan_core import make_synthesizer
from dagan_core.federation import messages as m
from dagan_core.federation.remote.errors import ProtocolError
from dagan_core.federation.remote.federation import RemoteFederation
from dagan_core.federation.remote.party_host import start_party
from tests.conftest import TINY, three_parties

FINGERPRINT = "sha256:contract-v1"
BAD_STEP = 3  # the party's third GeneratorStep is answered badly


def _corrupt(kind: str, rows: torch.Tensor) -> torch.Tensor:
    if kind == "nan":
        return torch.full_like(rows, float("nan"))
    if kind == "inf":
        return torch.full_like(rows, float("inf"))
    return rows[:, :-1].contiguous()  # wrong shape: one column short


class _GoesWrong:
    """Wraps a real party host; answers its ``BAD_STEP``-th generator step with bad gradients."""

    def __init__(self, host, kind: str):
        self.host, self.kind, self.steps = host, kind, 0

    def __getattr__(self, name):
        return getattr(self.host, name)

    def handle(self, message):
        reply = self.host.handle(message)
        if isinstance(message, m.GeneratorStep):
            self.steps += 1
            if self.steps == BAD_STEP:
                return m.GeneratorFeedback(_corrupt(self.kind, reply.row_gradients),
                                           reply.row_weights, reply.loss)
        return reply


@pytest.mark.parametrize("kind, error", [
    ("nan", "non-finite"), ("inf", "non-finite"), ("shape", r"gradients of shape")])
def test_bad_gradients_are_refused_and_leave_the_generator_unchanged(certs, tmp_path, kind,
                                                                     error):
    tables = three_parties()
    servers = {name: start_party(table, name, "y", None, certs.parties[name], "127.0.0.1:0",
                                 tmp_path / name, FINGERPRINT) for name, table in tables.items()}
    servers["party_b"].party = _GoesWrong(servers["party_b"].party, kind)
    try:
        federation = RemoteFederation({n: s.address for n, s in servers.items()},
                                      certs.coordinator, FINGERPRINT, timeout=20, retry_for=1)
        synth = make_synthesizer("dagan", **TINY)
        run = synth.begin_fit(federation, label="y")
        coordinator = run.trainer.coordinator
        seen = []
        step = coordinator.step

        def recording_step(stats):  # the generator's weights before each step
            seen.append({k: v.clone() for k, v in coordinator.generator.state_dict().items()})
            return step(stats)

        coordinator.step = recording_step
        with pytest.raises(ProtocolError, match=f"party 'party_b' at GeneratorStep.*{error}"):
            while run.epochs_left:
                run.run_epoch()
        assert len(seen) == BAD_STEP  # the failing step was the party's third
        after = coordinator.generator.state_dict()
        for key, before in seen[-1].items():
            assert torch.equal(after[key], before), key
        assert not torch.equal(seen[0][next(iter(seen[0]))], seen[-1][next(iter(seen[-1]))])
    finally:
        for server in servers.values():
            server.stop(0)
