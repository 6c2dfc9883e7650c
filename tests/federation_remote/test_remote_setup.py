"""The handshake and set-up refuse a party whose contract, schema or saved state differs."""

from __future__ import annotations

import shutil

import pytest

from dagan_core import make_synthesizer
from dagan_core.errors import SchemaMismatchError
from dagan_core.federation import messages as m
from dagan_core.federation.remote.client import RemoteTransport
from dagan_core.federation.remote.errors import PartyRefusedError
from dagan_core.federation.remote.federation import RemoteFederation
from dagan_core.prepare import agree_schema, party_schema
from tests.conftest import TINY, three_parties
from tests.federation_remote.party_process import hosting

ONE_EPOCH = {**TINY, "epochs": 1}


def _fed(endpoints, certs, fingerprint="contract-1", **kwargs):
    return RemoteFederation(endpoints, certs.coordinator, fingerprint, timeout=5, retry_for=2,
                            **kwargs)


def test_a_party_with_another_contract_is_refused_naming_it(certs, tmp_path):
    with hosting(three_parties(), certs, tmp_path,
                 fingerprints={"party_b": "contract-0"}) as endpoints:
        with pytest.raises(PartyRefusedError) as err:
            make_synthesizer("dagan", **ONE_EPOCH).fit(_fed(endpoints, certs), label="y")
    assert err.value.party == "party_b"
    assert ("party 'party_b' at Handshake: refused: contract fingerprint differs: the party "
            "validated its data against 'contract-0', the coordinator's is "
            "'contract-1'") in str(err.value)


def test_a_party_missing_a_column_is_refused_naming_party_and_column(certs, tmp_path):
    tables = three_parties()
    full = agree_schema({p: party_schema(p, t, "y") for p, t in tables.items()}, "y")
    tables["party_c"] = tables["party_c"].drop(columns=["color"])
    with hosting(tables, certs, tmp_path) as endpoints:
        # the coordinator's schema (from the contract): the party refuses it
        with pytest.raises(PartyRefusedError) as err:
            make_synthesizer("dagan", **ONE_EPOCH).fit(_fed(endpoints, certs, schema=full),
                                                       label="y")
        assert err.value.party == "party_c"
        assert ("party 'party_c' at Handshake: refused: schema differs: column 'color' of the "
                "agreed schema is missing from the party's table") in str(err.value)
        # no schema given: the declarations do not agree
        with pytest.raises(SchemaMismatchError) as err:
            make_synthesizer("dagan", **ONE_EPOCH).fit(_fed(endpoints, certs), label="y")
        assert (err.value.party, err.value.column) == ("party_c", "color")


def test_training_messages_before_setup_are_refused(certs, tmp_path):
    with hosting({"party_a": three_parties()["party_a"]}, certs, tmp_path) as endpoints:
        transport = RemoteTransport(endpoints, certs.coordinator, timeout=2, retry_for=0.3)
        with pytest.raises(PartyRefusedError, match="party 'party_a'.*before Setup"):
            transport.send("party_a", m.ConditionRequest(4))
        transport.close()


class _Stop(Exception):
    pass


def _stop(stats):
    raise _Stop


def _run_dirs(folder):
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def test_a_party_restarted_with_another_runs_state_or_none_is_refused(certs, tmp_path):
    states, checkpoint = tmp_path / "states", tmp_path / "checkpoint"
    with hosting(three_parties(), certs, states) as endpoints:
        with pytest.raises(_Stop):  # run B: stopped after its first epoch
            make_synthesizer("dagan", **TINY).fit(_fed(endpoints, certs), label="y",
                                                  checkpoint_dir=checkpoint, on_epoch_end=_stop)
        run_b = _run_dirs(states / "party_b")
        make_synthesizer("dagan", **{**ONE_EPOCH, "seed": 1}).fit(_fed(endpoints, certs),
                                                                   label="y")  # run A
        (run_a,) = _run_dirs(states / "party_b") - run_b
        shutil.rmtree(states / "party_b" / run_b.pop())  # party_b now holds only run A's state
        with pytest.raises(PartyRefusedError) as err:
            make_synthesizer("dagan", **TINY).fit(_fed(endpoints, certs), label="y",
                                                  checkpoint_dir=checkpoint)
        assert err.value.party == "party_b"
        assert "at Resume: refused: cannot resume training run" in str(err.value)
        assert f"holds the state of another training run ({run_a})" in str(err.value)
        shutil.rmtree(states / "party_b")  # party_b restarted without any state
        with pytest.raises(PartyRefusedError, match="party 'party_b' at Resume: .*holds no "
                                                    "saved state"):
            make_synthesizer("dagan", **TINY).fit(_fed(endpoints, certs), label="y",
                                                  checkpoint_dir=checkpoint)
