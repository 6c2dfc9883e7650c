"""Three party processes over gRPC with mutual TLS: the same model as the in-process fit.

Each party process holds its own table; the coordinator gets summaries at the handshake, builds
the encoder, sets the parties up and trains through the remote transport. Also: a coordinator
and a party restarted mid-training resume to the model of an uninterrupted run.
"""

from __future__ import annotations

import multiprocessing
import os
import signal

import pytest
import torch

from dagan_core import make_synthesizer
from dagan_core.federation.remote.federation import RemoteFederation
from tests.conftest import TINY, three_parties
from tests.federation_remote.party_process import serve_table

FINGERPRINT = "sha256:contract-v1"
TRAINING_TYPES = {"ConditionRequest", "Conditions", "CriticStep", "CriticReport",
                  "GeneratorStep", "GeneratorFeedback", "FitProbe", "FitFakes", "FitReport"}
SETUP_TYPES = {"Handshake", "PartyHello", "Setup", "SetupDone", "EpochEnd", "EpochSaved"}


class PartyProcesses:
    """One spawned process per party, each serving its own table."""

    def __init__(self, certs, state_root):
        self.certs, self.state_root = certs, state_root
        self.ctx = multiprocessing.get_context("spawn")
        self.tables = three_parties()
        self.procs, self.pids, self.endpoints = {}, {}, {}

    def start(self, names):
        queues = {}
        for name in names:
            queues[name] = self.ctx.Queue()
            proc = self.ctx.Process(target=serve_table, daemon=True, args=(
                name, self.tables[name], self.certs.parties[name], self.state_root / name,
                FINGERPRINT, queues[name]))
            proc.start()
            self.procs[name] = proc
        for name in names:
            self.pids[name], self.endpoints[name] = queues[name].get(timeout=90)

    def kill(self, name):
        os.kill(self.pids[name], signal.SIGKILL)
        self.procs[name].join(10)

    def stop(self):
        for proc in self.procs.values():
            if proc.is_alive():
                proc.kill()
                proc.join(10)


@pytest.fixture(scope="module")
def parties(certs, tmp_path_factory):
    procs = PartyProcesses(certs, tmp_path_factory.mktemp("party_states"))
    procs.start(list(procs.tables))
    yield procs
    procs.stop()


@pytest.fixture(scope="module")
def local():
    """The in-process fit of the same tables and seeds."""
    return make_synthesizer("dagan", **TINY).fit(three_parties(), label="y")


def _federation(parties, certs):
    return RemoteFederation(dict(parties.endpoints), certs.coordinator, FINGERPRINT,
                            timeout=20, retry_for=10)


def _assert_same_model(local, remote):
    a = local.generator_for("party_a").state_dict()
    b = remote.generator_for("party_a").state_dict()
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert local.sample(60, seed=3).equals(remote.sample(60, seed=3))


def test_three_party_processes_train_the_in_process_model(parties, certs, local):
    remote = make_synthesizer("dagan", **TINY)
    run = remote.begin_fit(_federation(parties, certs), label="y")
    while run.epochs_left:
        run.run_epoch()
    transport = run.trainer.transport
    run.finish()
    _assert_same_model(local, remote)
    for x, y in zip(local.history, remote.history, strict=True):
        for key in ("generator_loss", "critic_loss", "fit_gap", "alpha", "pi"):
            assert x[key] == y[key], key
    assert remote.summaries.keys() == local.summaries.keys()
    assert remote.encoder.to_dict() == local.encoder.to_dict()
    # the training messages and the set-up messages crossed the wire and were counted
    assert set(transport.bytes_by_type) == TRAINING_TYPES | SETUP_TYPES
    assert all(v > 0 for v in transport.bytes_by_type.values())


class _Stop(Exception):
    pass


def _stop_after_first_epoch(stats):
    if stats.epoch == 0:
        raise _Stop


def test_restarted_party_and_coordinator_resume_to_the_uninterrupted_model(
        parties, certs, local, tmp_path):
    first = make_synthesizer("dagan", **TINY)
    with pytest.raises(_Stop):  # the coordinator stops after its epoch-0 checkpoint
        first.fit(_federation(parties, certs), label="y", checkpoint_dir=tmp_path,
                  on_epoch_end=_stop_after_first_epoch)
    parties.kill("party_a")  # and one party dies; its epoch state is on its own disk
    parties.start(["party_a"])
    resumed = make_synthesizer("dagan", **TINY).fit(_federation(parties, certs), label="y",
                                                    checkpoint_dir=tmp_path)
    assert [h["epoch"] for h in resumed.history] == [0, 1]
    _assert_same_model(local, resumed)


#: every reply type a party may send, and what the set-up replies may carry
REPLY_TYPES = {"Conditions", "CriticReport", "GeneratorFeedback", "FitReport", "PartyHello",
               "SetupDone", "Resumed", "EpochSaved"}
SUMMARY_KEYS = {"party", "n_rows", "category_counts", "mixtures"}  # docs/federation.md, 1


def test_every_byte_the_coordinator_receives_is_an_allowed_message(parties, certs):
    from dagan_core.federation.remote import codec

    received: list[tuple[str, bytes]] = []

    class Recording(RemoteFederation):
        def connect(self):
            transport = super().connect()
            for name, call in list(transport._calls.items()):
                def record(data, timeout=None, _call=call, _name=name):
                    answer = _call(data, timeout=timeout)
                    received.append((_name, answer))
                    return answer
                transport._calls[name] = record
            return transport

    make_synthesizer("dagan", **TINY).fit(
        Recording(dict(parties.endpoints), certs.coordinator, FINGERPRINT, timeout=20,
                  retry_for=10), label="y")

    assert received
    kinds = set()
    for party, frame in received:
        message = codec.decode(frame, direction="reply").message  # refuses anything else
        kinds.add(type(message).__name__)
        if type(message).__name__ == "PartyHello":
            assert message.party == party
            assert all(len(spec) == 2 for spec in message.declaration.values())  # kind, dtype
            assert message.summary is None or set(message.summary) == SUMMARY_KEYS
    assert kinds <= REPLY_TYPES
    assert {"Conditions", "GeneratorFeedback", "PartyHello", "SetupDone"} <= kinds


def test_per_class_cross_party_weights_train_the_in_process_model(parties, certs):
    options = {**TINY, "class_alpha": True}
    local = make_synthesizer("dagan", **options).fit(three_parties(), label="y")
    remote = make_synthesizer("dagan", **options)
    run = remote.begin_fit(_federation(parties, certs), label="y")
    coordinator = run.trainer.coordinator
    assert coordinator.class_counts is not None and coordinator.label_mix is not None
    while run.epochs_left:
        run.run_epoch()
    run.finish()
    _assert_same_model(local, remote)
    for key in ("alpha", "pi"):
        assert [h[key] for h in local.history] == [h[key] for h in remote.history], key


def test_an_automatic_pac_is_resolved_by_the_coordinator_and_accepted_at_set_up(parties, certs):
    options = {k: v for k, v in TINY.items() if k != "pac"}
    local = make_synthesizer("dagan", **options).fit(three_parties(), label="y")
    remote = make_synthesizer("dagan", **options).fit(_federation(parties, certs), label="y")
    # 'yes' is about a third of the pooled rows: packs of 10 (cut for the 40-row party)
    assert remote.model.config.model.pac == local.model.config.model.pac == 10
    _assert_same_model(local, remote)
