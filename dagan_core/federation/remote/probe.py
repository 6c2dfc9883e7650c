"""The coordinator asking one party how it is: :func:`probe_party`.

One mutual-TLS connection and a read-only :class:`~.control.StatusRequest`: it tells whether the
party answers at its endpoint as the party configured (its certificate names it), how long a
round trip takes, whether its contract fingerprint is the coordinator's, and what the party
reports (counts, verdict and, when asked and the contracts agree, its summary). It never
raises for an absent or refusing party: the result says so, with the reason.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from dagan_core.federation.remote import control as c
from dagan_core.federation.remote.client import RemoteTransport
from dagan_core.federation.remote.errors import (
    PartyRefusedError,
    PartyUnavailableError,
    RemotePartyError,
)
from dagan_core.federation.remote.tls import TLSFiles

REACHABLE, UNREACHABLE, REFUSED = "reachable", "unreachable", "refused"


@dataclass(frozen=True)
class PartyProbe:
    """What a probe found.

    Attributes:
        party, endpoint: whom it asked, where.
        state: ``"reachable"`` (it answered as that party), ``"unreachable"`` (no answer within
            the timeout) or ``"refused"`` (TLS, identity or protocol refused, on either side).
        connect_ms: first call, TLS handshake included; ``latency_ms``: a second round trip.
        fingerprint_matches: whether the party's contract fingerprint is the coordinator's
            (None when it did not answer).
        status: the party's answer (None when it did not answer).
        error: why it did not answer (None when it did).
    """

    party: str
    endpoint: str
    state: str
    connect_ms: float | None = None
    latency_ms: float | None = None
    fingerprint_matches: bool | None = None
    status: c.PartyStatus | None = None
    error: str | None = None

    @property
    def reachable(self) -> bool:
        """It answered as the configured party."""
        return self.state == REACHABLE


def probe_party(party: str, endpoint: str, tls: TLSFiles, contract_fingerprint: str, *,
                max_modes: int = 0, seed: int = 0, timeout: float = 5.0) -> PartyProbe:
    """Ask ``party`` at ``endpoint`` for its status (see module docstring).

    Args:
        max_modes, seed: the summary's settings; 0 max_modes: counts and verdict only.
        timeout: deadline of each call, in seconds (no retries).
    """
    transport = RemoteTransport({party: endpoint}, tls, timeout=timeout, retry_for=0.0)
    request = c.StatusRequest(c.PROTOCOL, contract_fingerprint, 0, 0)
    try:
        start = time.perf_counter()
        transport.control(party, request)
        connect = time.perf_counter() - start
        start = time.perf_counter()
        status = transport.control(party, request)
        latency = time.perf_counter() - start
        if max_modes > 0:
            status = transport.control(party, c.StatusRequest(
                c.PROTOCOL, contract_fingerprint, max_modes, seed))
    except PartyUnavailableError as exc:
        return PartyProbe(party, endpoint, UNREACHABLE, error=exc.reason)
    except (PartyRefusedError, RemotePartyError) as exc:
        return PartyProbe(party, endpoint, REFUSED, error=exc.reason)
    finally:
        transport.close()
    if status.party != party:
        return PartyProbe(party, endpoint, REFUSED,
                          error=f"answered as party {status.party!r}")
    return PartyProbe(party, endpoint, REACHABLE, round(connect * 1e3, 2),
                      round(latency * 1e3, 2),
                      status.contract_fingerprint == contract_fingerprint, status)
