"""A party process killed (SIGKILL) in the middle of an epoch.

Default policy: the run fails after the retry time, naming the party and the step; the party and
the coordinator restarted resume to the model of an uninterrupted run. With
``on_party_lost="continue"``: training goes on without the party, which the log, the history,
the saved model and the release mix show.
"""

from __future__ import annotations

import logging

import pytest

from dagan_core import make_synthesizer
from dagan_core.errors import ConditionError
from dagan_core.federation import messages as m
from dagan_core.federation.remote.errors import PartyUnavailableError
from dagan_core.federation.remote.federation import RemoteFederation
from dagan_core.synthesizers.checkpoint import load_model, save_model
from tests.conftest import TINY, three_parties
from tests.federation_remote.test_remote_training import (
    FINGERPRINT,
    PartyProcesses,
    _assert_same_model,
)

RETRY_S = 1.5


class KillingFederation(RemoteFederation):
    """Kills ``victim`` (SIGKILL) after ``after`` generator steps of epoch ``epoch``."""

    def __init__(self, parties, certs, *, victim, epoch, after, **kwargs):
        super().__init__(dict(parties.endpoints), certs.coordinator, FINGERPRINT, timeout=60,
                         retry_for=RETRY_S, backoff=(0.05, 0.3), **kwargs)
        object.__setattr__(self, "kill", (parties, victim, epoch, after))

    def connect(self):
        transport = super().connect()
        parties, victim, epoch, after = self.kill
        seen = {"epochs": 0, "steps": 0}

        def observe(party, message, reply):
            if party != parties.names[0]:
                return
            if isinstance(message, m.FitFakes):  # the last exchange of an epoch
                seen["epochs"] += 1
                seen["steps"] = 0
            elif isinstance(message, m.GeneratorStep):
                seen["steps"] += 1
                if seen["epochs"] == epoch and seen["steps"] == after:
                    parties.kill(victim)

        transport.observers.append(observe)
        return transport


@pytest.fixture(scope="module")
def local():
    return make_synthesizer("dagan", **TINY).fit(three_parties(), label="y")


@pytest.fixture(scope="module")
def parties(certs, tmp_path_factory):
    """Three party processes (the tests kill and restart them)."""
    procs = PartyProcesses(certs, tmp_path_factory.mktemp("lost_states"))
    procs.names = list(procs.tables)
    procs.start(procs.names)
    yield procs
    procs.stop()


def test_killed_mid_epoch_fails_then_restarted_party_and_coordinator_resume(
        parties, certs, local, tmp_path):
    fed = KillingFederation(parties, certs, victim="party_b", epoch=1, after=2)
    with pytest.raises(PartyUnavailableError) as err:  # killed in the second epoch
        make_synthesizer("dagan", **TINY).fit(fed, label="y",
                                              checkpoint_dir=tmp_path / "checkpoint")
    assert err.value.party == "party_b"
    assert "of training step" in err.value.step
    assert f"no answer within {RETRY_S:g} s of retries" in str(err.value)
    parties.start(["party_b"])  # restarted with its own state folder
    fed = RemoteFederation(dict(parties.endpoints), certs.coordinator, FINGERPRINT,
                           timeout=20, retry_for=10)
    resumed = make_synthesizer("dagan", **TINY).fit(fed, label="y",
                                                    checkpoint_dir=tmp_path / "checkpoint")
    assert [h["epoch"] for h in resumed.history] == [0, 1]
    _assert_same_model(local, resumed)  # the other parties went back to their epoch-0 state
    assert resumed.model.lost_parties == {}


def test_continue_without_a_killed_party_is_explicit(parties, certs, tmp_path, caplog):
    fed = KillingFederation(parties, certs, victim="party_c", epoch=0, after=2,
                            on_party_lost="continue")
    with caplog.at_level(logging.WARNING, logger="dagan_core.federation.remote.trainer"):
        synth = make_synthesizer("dagan", **TINY).fit(fed, label="y")
    lost = synth.history[0]["lost_parties"]["party_c"]
    assert lost["epoch"] == 0 and lost["step"].startswith("ConditionRequest of training step 3")
    assert synth.history[1]["lost_parties"] == {"party_c": lost}
    assert set(synth.history[1]["alpha"]) == {"party_a", "party_b"}  # trained without it
    assert set(synth.history[1]["critic_loss"]) == {"party_a", "party_b"}
    assert "party 'party_c' lost at epoch 0 (ConditionRequest of training step 3); training " \
           "continues without it on party_a, party_b" in caplog.text
    save_model(synth.model, tmp_path / "model")
    model = load_model(tmp_path / "model")
    assert model.lost_parties == {"party_c": lost}  # recorded in the saved model
    rows = synth.sample(300, seed=1)
    assert set(rows["party"]) == {"party_a", "party_b"}  # not in the release mix
    with pytest.raises(ConditionError, match="party 'party_c' was lost during training "
                                             r"\(from epoch 0, ConditionRequest of training"):
        synth.sample(10, party="party_c", seed=1)


def test_unknown_party_lost_policy_is_refused(certs):
    with pytest.raises(Exception, match="on_party_lost must be 'fail' or 'continue', not 'skip'"):
        RemoteFederation({"party_a": "127.0.0.1:1"}, certs.coordinator, FINGERPRINT,
                         on_party_lost="skip")
