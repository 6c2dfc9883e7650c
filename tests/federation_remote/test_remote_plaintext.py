"""Plaintext gRPC: only when asked for, only on loopback unless forced, logged as INSECURE."""

from __future__ import annotations

import logging

import pytest

from dagan_core.errors import DAGANError
from dagan_core.federation import messages as m
from dagan_core.federation.remote.client import RemoteTransport
from dagan_core.federation.remote.plaintext import is_loopback
from dagan_core.federation.remote.server import PartyServer
from tests.federation_remote.party_process import CountingParty


def test_plaintext_on_loopback_when_asked_for_is_logged_as_insecure(caplog):
    with caplog.at_level(logging.WARNING, logger="dagan_core.federation.remote.plaintext"):
        server = PartyServer(CountingParty(), "party_a", None, insecure_plaintext=True).start()
        try:
            transport = RemoteTransport({"party_a": server.address}, None, timeout=5,
                                        insecure_plaintext=True)
            reply = transport.send("party_a", m.ConditionRequest(3))
            transport.close()
        finally:
            server.stop(0)
    assert len(reply.blocks) == 3
    assert "INSECURE: party 'party_a' serving on 127.0.0.1:0 in plaintext" in caplog.text
    assert f"INSECURE: coordinator to party 'party_a' on {server.address} in plaintext" in \
        caplog.text


def test_plaintext_is_refused_unless_asked_for():
    with pytest.raises(DAGANError, match="party 'party_a' serving: no TLS files given; mutual "
                                         "TLS is required"):
        PartyServer(CountingParty(), "party_a", None)
    with pytest.raises(DAGANError, match="coordinator to party 'party_a': no TLS files given"):
        RemoteTransport({"party_a": "127.0.0.1:7001"}, None)


def test_plaintext_on_a_non_loopback_address_is_refused_unless_forced(caplog):
    with pytest.raises(DAGANError, match="party 'party_a' serving: plaintext refused on "
                                         "0.0.0.0:0, which is not a loopback address"):
        PartyServer(CountingParty(), "party_a", None, address="0.0.0.0:0",
                    insecure_plaintext=True)
    with pytest.raises(DAGANError, match="coordinator to party 'party_b': plaintext refused "
                                         "on 10.0.0.12:7401"):
        RemoteTransport({"party_b": "10.0.0.12:7401"}, None, insecure_plaintext=True)
    with caplog.at_level(logging.WARNING, logger="dagan_core.federation.remote.plaintext"):
        RemoteTransport({"party_b": "10.0.0.12:7401"}, None, insecure_plaintext=True,
                        allow_remote_plaintext=True).close()
    assert "INSECURE: coordinator to party 'party_b' on 10.0.0.12:7401 in plaintext: no " \
           "encryption, no authentication of either side (non-loopback address, forced)" in \
        caplog.text


def test_loopback_addresses():
    assert all(map(is_loopback, ["127.0.0.1:1", "127.9.9.9:1", "localhost:1", "[::1]:1"]))
    assert not any(map(is_loopback, ["0.0.0.0:1", "10.0.0.1:1", "host-a:1", "[::]:1"]))
