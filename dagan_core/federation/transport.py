"""Transport of messages to parties. In-process by default; counts every byte."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from dagan_core.errors import DAGANError
from dagan_core.federation.messages import PARTY_REPLIES, message_bytes


class TrafficCounts:
    """What crossed the boundary: bytes each way and per message type, exchanges, observers."""

    def __init__(self) -> None:
        self.bytes_to_parties = 0
        self.bytes_from_parties = 0
        self.bytes_by_type: dict[str, int] = {}
        self.messages = 0
        self.observers: list[Callable[[str, object, object], None]] = []

    def _count(self, party: str, message: object, reply: object, sent: int,
               received: int) -> None:
        self.bytes_to_parties += sent
        self.bytes_from_parties += received
        self._count_types(message, reply, sent, received)
        self.messages += 1
        for observer in self.observers:
            observer(party, message, reply)

    def _count_types(self, message: object, reply: object, sent: int, received: int) -> None:
        for msg, size in ((message, sent), (reply, received)):
            name = type(msg).__name__
            self.bytes_by_type[name] = self.bytes_by_type.get(name, 0) + size

    def reset_counters(self) -> int:
        """Return the bytes exchanged since the last reset, and reset."""
        total = self.bytes_to_parties + self.bytes_from_parties
        self.bytes_to_parties = self.bytes_from_parties = 0
        return total


class InProcessTransport(TrafficCounts):
    """Delivers messages to party objects living in this process.

    The coordinator only ever holds a transport: it can send a message to a party by name and
    receives typed replies; it has no handle on a party object and so none on its rows.
    """

    def __init__(self, parties: Mapping[str, Any]):
        """Register the party endpoints (objects with a ``handle(message)`` method)."""
        super().__init__()
        self._endpoints = dict(parties)
        self._colocated: dict[str, Any] = {}  # party name -> its ColocatedCritics, if any

    def colocate(self, group: Any) -> None:
        """Register parties hosted together (a ``ColocatedCritics``) for batched rounds."""
        for name in group.names:
            self._colocated[name] = group

    def send(self, party: str, message: object) -> Any:
        """Deliver ``message`` to ``party`` and return its reply."""
        reply = self._endpoints[party].handle(message)
        self._account(party, message, reply)
        return reply

    def send_round(self, parties: list[str], messages: list[object]) -> list[Any]:
        """Deliver one message to each party and return the replies in the same order.

        Co-located parties whose every member is addressed answer in one batched pass; the
        others one by one. Each message and reply is checked and counted as with :meth:`send`.
        """
        replies: list[Any] = [None] * len(parties)
        groups: dict[int, list[int]] = {}
        for i, (party, message) in enumerate(zip(parties, messages)):
            group = self._colocated.get(party)
            if group is not None and group.handles(message):
                groups.setdefault(id(group), []).append(i)
        for idx in groups.values():
            group = self._colocated[parties[idx[0]]]
            if len(idx) != len(group.names):
                continue  # only part of the group addressed: one by one below
            names = [parties[i] for i in idx]
            for i, reply in zip(idx, group.handle_round(names, [messages[i] for i in idx])):
                self._account(parties[i], messages[i], reply)
                replies[i] = reply
        for i, (party, message) in enumerate(zip(parties, messages)):
            if replies[i] is None:
                replies[i] = self.send(party, message)
        return replies

    def _account(self, party: str, message: object, reply: object) -> None:
        if not isinstance(reply, PARTY_REPLIES):
            raise DAGANError(f"party {party!r} replied with a forbidden message type "
                             f"{type(reply).__name__}")
        self._count(party, message, reply, message_bytes(message), message_bytes(reply))
