"""Where a federated epoch's time goes: per training-step phase, per exchange, per party.

:class:`StepProfile` wraps a transport's ``send``, ``send_round`` and ``start_round`` (in process
or remote) and times how long the coordinator is blocked on each round, by the message type
sent (a critic round started before the next conditions are asked for counts its sending and its
final wait; the wait for the party's critic step then shows in the conditions round); the rest
of the epoch is the coordinator's own compute (generator passes, backward, optimizer). On a
remote transport it also times each gRPC call (latency per message type, p50/p90), and the
frame encoding and decoding at the coordinator. :func:`party_timer` is run inside a party
process: it times what the party itself spends answering (its critic), per message type, so a
round's time splits into the slowest party's compute and the rest (wire, TLS, the party's
codec, waiting to be scheduled).
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import numpy as np


def _summary(values: list[float]) -> dict[str, float]:
    a = np.asarray(values) * 1000.0
    return {"n": int(a.size), "total_s": round(float(a.sum()) / 1000.0, 3),
            "p50_ms": round(float(np.percentile(a, 50)), 2),
            "p90_ms": round(float(np.percentile(a, 90)), 2)}


class StepProfile:
    """Time the rounds of a transport (see module docstring)."""

    def __init__(self, transport: Any):
        """Wrap ``transport``'s sending methods (on the instance only)."""
        self.rounds: dict[str, list[float]] = defaultdict(list)
        self.calls: dict[str, list[float]] = defaultdict(list)
        self.codec: dict[str, float] = defaultdict(float)
        self._wrap_rounds(transport)
        if hasattr(transport, "_calls"):
            self._wrap_calls(transport)
            self._wrap_codec()

    def _wrap_rounds(self, transport: Any) -> None:
        send, send_round = transport.send, transport.send_round
        inside = []  # an in-process round sends one by one: time the round only

        def timed_send(party: str, message: object) -> Any:
            start = time.perf_counter()
            reply = send(party, message)
            if not inside:
                self.rounds[type(message).__name__].append(time.perf_counter() - start)
            return reply

        def timed_round(parties: list[str], messages: list[object]) -> list[Any]:
            nested, start = bool(inside), time.perf_counter()
            inside.append(1)
            try:
                replies = send_round(parties, messages)
            finally:
                inside.pop()
            if not nested:
                self.rounds[type(messages[0]).__name__].append(time.perf_counter() - start)
            return replies

        start_round = getattr(transport, "start_round", None)

        def timed_start(parties: list[str], messages: list[object]) -> Any:
            # the time the coordinator is blocked: sending, then waiting for the replies
            nested, start = bool(inside), time.perf_counter()
            inside.append(1)
            try:
                replies = start_round(parties, messages)
            finally:
                inside.pop()
            sending = time.perf_counter() - start

            def wait() -> list[Any]:
                begin = time.perf_counter()
                out = replies()
                if not nested:
                    self.rounds[type(messages[0]).__name__].append(
                        sending + time.perf_counter() - begin)
                return out

            return wait

        transport.send, transport.send_round = timed_send, timed_round
        if start_round is not None:
            transport.start_round = timed_start

    def _wrap_calls(self, transport: Any) -> None:
        for name, call in list(transport._calls.items()):
            def timed(data: bytes, timeout: float | None = None, _call: Any = call) -> bytes:
                kind = _peek_type(data)
                start = time.perf_counter()
                answer = _call(data, timeout=timeout)
                self.calls[kind].append(time.perf_counter() - start)
                return answer
            transport._calls[name] = timed

    def _wrap_codec(self) -> None:
        from dagan_core.federation.remote import client

        real = client.codec
        profile = self

        class TimedCodec:
            """The codec module, timed."""

            def __getattr__(self, name: str) -> Any:
                return getattr(real, name)

            def encode(self, *args: Any, **kwargs: Any) -> bytes:
                start = time.perf_counter()
                out = real.encode(*args, **kwargs)
                profile.codec["encode_s"] += time.perf_counter() - start
                return out

            def decode(self, *args: Any, **kwargs: Any) -> Any:
                start = time.perf_counter()
                out = real.decode(*args, **kwargs)
                profile.codec["decode_s"] += time.perf_counter() - start
                return out

        client.codec = TimedCodec()
        self._restore = (client, real)

    def close(self) -> None:
        """Put the real codec back."""
        if hasattr(self, "_restore"):
            module, real = self._restore
            module.codec = real

    def report(self, epochs: int, epoch_seconds: float) -> dict[str, Any]:
        """Per epoch: seconds per round type, coordinator compute, call latencies, codec."""
        rounds = {k: round(sum(v) / epochs, 3) for k, v in sorted(self.rounds.items())}
        out: dict[str, Any] = {
            "round_s_per_epoch": rounds,
            "rounds_per_epoch": {k: len(v) // epochs for k, v in sorted(self.rounds.items())},
            "coordinator_compute_s_per_epoch": round(epoch_seconds - sum(rounds.values()), 3)}
        if self.calls:
            out["exchange_latency"] = {k: _summary(v) for k, v in sorted(self.calls.items())}
            out["exchanges_per_epoch"] = {k: len(v) // epochs
                                          for k, v in sorted(self.calls.items())}
            out["codec_s_per_epoch"] = {k: round(v / epochs, 3)
                                        for k, v in sorted(self.codec.items())}
        return out


def _peek_type(data: bytes) -> str:
    import json

    from dagan_core.federation.remote.codec import _PREFIX

    _, _, length = _PREFIX.unpack_from(data)
    return str(json.loads(data[_PREFIX.size:_PREFIX.size + length])["type"])


def party_timer(server: Any) -> dict[str, list[float]]:
    """Time ``server``'s party answering each request (in the party's process), by type."""
    times: dict[str, list[float]] = defaultdict(list)
    handle = server.party.handle

    def timed(message: object) -> object:
        start = time.perf_counter()
        reply = handle(message)
        times[type(message).__name__].append(time.perf_counter() - start)
        if type(message).__name__ == "EpochEnd":  # the process's CPU seconds at each epoch end
            times["cpu_s_at_epoch_end"].append(time.process_time())
        return reply

    server.party.handle = timed
    return times
