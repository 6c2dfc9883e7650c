"""A party killed mid-training: retried for the configured time, then an error naming it."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import pytest
import torch

from dagan_core.federation import messages as m
from dagan_core.federation.remote.client import RemoteTransport
from dagan_core.federation.remote.errors import PartyUnavailableError
from tests.federation_remote.party_process import serve


def test_a_killed_party_fails_the_run_naming_party_and_step(certs):
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=serve, args=("party_c", certs.parties["party_c"], queue),
                       daemon=True)
    proc.start()
    try:
        pid, address = queue.get(timeout=60)
        transport = RemoteTransport({"party_c": address}, certs.coordinator, timeout=2,
                                    retry_for=1.5, backoff=(0.05, 0.5))
        for _ in range(2):  # two training steps answered by the party process
            transport.send("party_c", m.ConditionRequest(2))
            transport.send("party_c", m.CriticStep(torch.zeros(2, 3)))
            transport.send("party_c", m.ConditionRequest(2))
            transport.send("party_c", m.GeneratorStep(torch.zeros(2, 3)))
        transport.send("party_c", m.ConditionRequest(2))
        os.kill(pid, signal.SIGKILL)
        proc.join(10)
        start = time.monotonic()
        with pytest.raises(PartyUnavailableError) as err:
            transport.send_round(["party_c"], [m.CriticStep(torch.zeros(2, 3))])
        elapsed = time.monotonic() - start
        transport.close()
    finally:
        if proc.is_alive():
            proc.kill()
    assert err.value.party == "party_c"
    assert err.value.step == "CriticStep of training step 3"
    assert "party 'party_c' at CriticStep of training step 3: no answer within 1.5 s" in str(
        err.value)
    assert 1.0 <= elapsed < 5.0
