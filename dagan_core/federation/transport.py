"""Transport of messages to parties. In-process by default; counts every byte."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from dagan_core.errors import DAGANError
from dagan_core.federation.messages import PARTY_REPLIES, message_bytes


class InProcessTransport:
    """Delivers messages to party objects living in this process.

    The coordinator only ever holds a transport: it can send a message to a party by name and
    receives typed replies; it has no handle on a party object and so none on its rows.
    """

    def __init__(self, parties: Mapping[str, Any]):
        """Register the party endpoints (objects with a ``handle(message)`` method)."""
        self._endpoints = dict(parties)
        self.bytes_to_parties = 0
        self.bytes_from_parties = 0
        self.messages = 0
        self.observers: list[Callable[[str, object, object], None]] = []

    @property
    def party_names(self) -> list[str]:
        """Names of the reachable parties."""
        return list(self._endpoints)

    def send(self, party: str, message: object) -> Any:
        """Deliver ``message`` to ``party`` and return its reply."""
        reply = self._endpoints[party].handle(message)
        if not isinstance(reply, PARTY_REPLIES):
            raise DAGANError(f"party {party!r} replied with a forbidden message type "
                             f"{type(reply).__name__}")
        self.bytes_to_parties += message_bytes(message)
        self.bytes_from_parties += message_bytes(reply)
        self.messages += 1
        for observer in self.observers:
            observer(party, message, reply)
        return reply

    def reset_counters(self) -> int:
        """Return the bytes exchanged since the last reset, and reset."""
        total = self.bytes_to_parties + self.bytes_from_parties
        self.bytes_to_parties = self.bytes_from_parties = 0
        return total
