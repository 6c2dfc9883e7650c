"""Plaintext gRPC, for loopback only and only when asked for.

Remote parties speak mutual TLS. A party server and the coordinator's transport may instead run
without TLS when the caller passes ``insecure_plaintext=True`` (the command line's
``--insecure-plaintext``): nothing is encrypted and neither side is authenticated, so it is
refused on any address that is not loopback (127.0.0.0/8, ::1, ``localhost``) unless
``allow_remote_plaintext=True`` forces it as well. Every plaintext server and channel is logged
at WARNING with the word INSECURE.
"""

from __future__ import annotations

import ipaddress
import logging

from dagan_core.errors import DAGANError

logger = logging.getLogger(__name__)


def is_loopback(address: str) -> bool:
    """Whether ``address`` ("host:port", "[v6]:port") names this machine's loopback."""
    host = address.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_plaintext(address: str, who: str, *, insecure_plaintext: bool,
                    allow_remote_plaintext: bool) -> None:
    """Allow plaintext on ``address`` only as the module docstring says; log it as INSECURE.

    Raises:
        DAGANError: no TLS files and plaintext not asked for, or a non-loopback address
            without ``allow_remote_plaintext``.
    """
    if not insecure_plaintext:
        raise DAGANError(f"{who}: no TLS files given; mutual TLS is required (plaintext only "
                         "with insecure_plaintext=True / --insecure-plaintext, on loopback)")
    if not is_loopback(address) and not allow_remote_plaintext:
        raise DAGANError(f"{who}: plaintext refused on {address}, which is not a loopback "
                         "address: anyone on the network could read and send the training "
                         "messages; use mutual TLS (or force it with allow_remote_plaintext)")
    logger.warning("INSECURE: %s on %s in plaintext: no encryption, no authentication of "
                   "either side%s", who, address,
                   "" if is_loopback(address) else " (non-loopback address, forced)")
