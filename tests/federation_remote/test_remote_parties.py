"""Parties in their own processes, holding their own rows: set-up over mTLS, then training
that equals the in-process fit bit for bit; a party with another contract or schema refused."""

from __future__ import annotations

import pytest
import torch

from dagan_core import make_synthesizer
from dagan_core.errors import SchemaMismatchError
from dagan_core.federation.remote import handshake as h
from dagan_core.federation.remote.errors import RemotePartyError
from dagan_core.federation.remote.party_host import PartyHost, SetupRefused
from dagan_core.synthesizers.remote_fit import RemoteParties
from tests.conftest import TINY
from tests.federation_remote.party_process import party_processes

CONTRACT = "c" * 64


def _remote(addresses, certs, **kwargs):
    return RemoteParties(addresses, certs.coordinator, CONTRACT, timeout=20, retry_for=5,
                         **kwargs)


def test_parties_on_their_own_processes_train_the_in_process_model(tiny_parties, certs):
    local = make_synthesizer("dagan", **TINY).fit(tiny_parties, label="y")
    with party_processes(tiny_parties, certs, CONTRACT) as addresses:
        remote = make_synthesizer("dagan", **TINY).fit(_remote(addresses, certs), label="y")

    a = local.model.generators[0].state_dict()
    b = remote.model.generators[0].state_dict()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert [x["generator_loss"] for x in local.history] == [
        x["generator_loss"] for x in remote.history]
    assert local.sample(80, seed=3).equals(remote.sample(80, seed=3))
    assert remote.model.summaries["party_c"].to_dict() == local.model.summaries[
        "party_c"].to_dict()


def test_a_party_with_another_contract_is_refused_by_name(tiny_parties, certs):
    with party_processes(tiny_parties, certs, CONTRACT,
                         contracts={"party_b": "d" * 64}) as addresses:
        with pytest.raises(RemotePartyError, match="contract") as info:
            make_synthesizer("dagan", **TINY).fit(_remote(addresses, certs), label="y")
    assert info.value.party == "party_b"


def test_a_party_missing_a_column_is_refused_naming_party_and_column(tiny_parties, certs):
    tiny_parties["party_c"] = tiny_parties["party_c"].drop(columns=["amount"])
    with party_processes(tiny_parties, certs, CONTRACT) as addresses:
        with pytest.raises(SchemaMismatchError) as info:
            make_synthesizer("dagan", **TINY).fit(_remote(addresses, certs), label="y")
    assert info.value.party == "party_c" and info.value.column == "amount"


def test_a_set_up_party_refuses_another_run(tiny_parties):
    host = PartyHost("party_a", tiny_parties["party_a"], CONTRACT)
    settings = h.dumps({"max_modes": 3, "seed": 0, "label": "y", "discrete": None})
    with pytest.raises(SetupRefused, match="Setup before Hello"):
        host.handle(h.Setup("{}"))
    declaration = host.handle(h.Hello(h.PROTOCOL, CONTRACT, settings))
    assert declaration.party == "party_a" and '"n_rows":240' in declaration.payload
    with pytest.raises(SetupRefused, match="contract"):
        host.handle(h.Hello(h.PROTOCOL, "e" * 64, settings))
