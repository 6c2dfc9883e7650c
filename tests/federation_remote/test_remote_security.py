"""Mutual TLS: each side refuses a certificate it does not trust or that names someone else."""

from __future__ import annotations

import grpc
import pytest

from dagan_core.federation import messages as m
from dagan_core.federation.remote.client import RemoteTransport
from dagan_core.federation.remote.errors import PartyRefusedError, PartyUnavailableError
from dagan_core.federation.remote.server import EXCHANGE
from dagan_core.federation.remote.tls import TLSFiles, issue_certificate, make_certificates
from tests.federation_remote.party_process import CountingParty, serving


def _send(address, tls, name="party_a", **kwargs):
    transport = RemoteTransport({name: address}, tls, timeout=2, retry_for=0.3, **kwargs)
    try:
        return transport.send(name, m.ConditionRequest(2))
    finally:
        transport.close()


def test_trusted_coordinator_reaches_the_named_party(certs):
    with serving({"party_a": CountingParty()}, certs) as ep:
        reply = _send(ep["party_a"], certs.coordinator)
    assert isinstance(reply, m.Conditions) and len(reply.blocks) == 2


def test_coordinator_refuses_a_party_certificate_from_another_authority(certs, other_certs):
    trusts_other = TLSFiles(other_certs.ca_cert, certs.coordinator.cert, certs.coordinator.key)
    with serving({"party_a": CountingParty()}, certs) as ep:
        with pytest.raises(PartyRefusedError, match="party 'party_a'.*CERTIFICATE_VERIFY_FAILED"):
            _send(ep["party_a"], trusts_other)


def test_party_refuses_a_coordinator_certificate_from_another_authority(certs, other_certs):
    foreign = TLSFiles(certs.ca_cert, other_certs.coordinator.cert, other_certs.coordinator.key)
    party = CountingParty()
    with serving({"party_a": party}, certs) as ep:
        with pytest.raises(PartyUnavailableError, match="party 'party_a'.*not trust"):
            _send(ep["party_a"], foreign)
    assert party.applied == []


def test_party_refuses_a_caller_without_certificate(certs):
    party = CountingParty()
    with serving({"party_a": party}, certs) as ep:
        creds = grpc.ssl_channel_credentials(root_certificates=certs.ca_cert.read_bytes())
        options = [("grpc.ssl_target_name_override", "party_a")]
        with grpc.secure_channel(ep["party_a"], creds, options=options) as channel:
            with pytest.raises(grpc.RpcError) as err:
                channel.unary_unary(EXCHANGE)(b"DGF1", timeout=2)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert party.applied == []


def test_party_certificate_presented_as_another_party_is_refused(certs):
    party = CountingParty()
    with serving({"party_a": party}, certs) as ep:  # party_a's certificate answers ...
        with pytest.raises(PartyRefusedError, match="party 'party_b'.*Verification"):
            _send(ep["party_a"], certs.coordinator, name="party_b")  # ... for party_b
    assert party.applied == []


def test_party_refuses_a_caller_that_is_not_the_coordinator(certs, tmp_path):
    # a client certificate from the trusted authority, but naming a party, not the coordinator
    intruder = issue_certificate(certs.ca_cert, certs.ca_key, "party_b", tmp_path,
                                 role="coordinator")
    party = CountingParty()
    with serving({"party_a": party}, certs) as ep:
        with pytest.raises(PartyRefusedError,
                           match=r"party 'party_a'.*caller \(party_b\) is not the trusted"):
            _send(ep["party_a"], intruder)
    assert party.applied == []


def test_certificate_names_are_checked(tmp_path):
    with pytest.raises(ValueError, match="cannot be put in a certificate"):
        make_certificates(tmp_path, ["a b"])
    with pytest.raises(ValueError, match="differ from the coordinator"):
        make_certificates(tmp_path, ["coordinator"])
