"""The coordinator's transport to parties served by :class:`~.server.PartyServer`.

:class:`RemoteTransport` has the interface of
:class:`~dagan_core.federation.transport.InProcessTransport` (``party_names``, ``send``,
``send_round``, ``observers``, byte counters, ``reset_counters``), so the coordinator's training
code is the same for in-process and remote parties. Each call:

- runs over mutual TLS; the answering party's certificate must name the party configured for
  that endpoint (TLS host-name check against the party name), and the coordinator presents its
  own certificate;
- has a deadline; an unreachable party is retried with exponential backoff for ``retry_for``
  seconds, then :class:`~.errors.PartyUnavailableError` names the party and the step;
- carries a session id and a sequence number per party, so a retried request that did arrive is
  answered from the party's cache instead of being applied twice;
- is checked on return: the reply must be the type answering the request, with well-formed
  finite arrays, gradients of the shape and dtype of the fake rows sent, one weight per row.

Bytes are counted as they cross the wire (whole frames), per message type in
:attr:`RemoteTransport.bytes_by_type`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from concurrent import futures
from typing import Any

import grpc

from dagan_core.errors import DAGANError
from dagan_core.federation import messages as m
from dagan_core.federation.remote import codec
from dagan_core.federation.remote.control import CONTROL_REQUESTS
from dagan_core.federation.remote.errors import (
    CodecError,
    PartyRefusedError,
    PartyUnavailableError,
    ProtocolError,
    RemotePartyError,
)
from dagan_core.federation.remote.plaintext import check_plaintext
from dagan_core.federation.remote.server import EXCHANGE, MAX_MESSAGE_BYTES
from dagan_core.federation.remote.tls import TLSFiles
from dagan_core.federation.transport import TrafficCounts

_RETRY = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
_TLS_HINTS = ("handshake", "certificate", "peer name", "verification", "ssl_error")
_CLOSED_HINT = ("; the party closed the connection during the handshake: it may not trust "
                "the coordinator's certificate")


class RemoteTransport(TrafficCounts):
    """Deliver messages to remote parties (see module docstring).

    Args:
        endpoints: party name -> "host:port".
        tls: the authority that signed the parties' certificates, and the coordinator's own
            certificate and key.
        timeout: deadline of one call, in seconds.
        retry_for: how long an unreachable party is retried before the run fails, in seconds.
        max_message_bytes: largest message sent or accepted.
    """

    def __init__(self, endpoints: Mapping[str, str], tls: TLSFiles | None, *,
                 timeout: float = 30.0, retry_for: float = 60.0,
                 max_message_bytes: int = MAX_MESSAGE_BYTES,
                 backoff: tuple[float, float] = (0.05, 2.0), insecure_plaintext: bool = False,
                 allow_remote_plaintext: bool = False):
        """Open one channel per party (connections are made on first use).

        ``tls=None``: plaintext channels, only with ``insecure_plaintext`` and to loopback
        addresses unless ``allow_remote_plaintext`` (see :mod:`.plaintext`).
        """
        self.timeout = timeout
        self.retry_for = retry_for
        self.backoff = backoff
        self.session = uuid.uuid4().hex
        super().__init__()
        self._seq = dict.fromkeys(endpoints, 0)
        self._steps = dict.fromkeys(endpoints, 0)
        creds = None
        if tls is not None:
            ca, cert, key = tls.read()
            creds = grpc.ssl_channel_credentials(root_certificates=ca, private_key=key,
                                                 certificate_chain=cert)
        self._channels = {}
        self._calls = {}
        for name, target in endpoints.items():
            options = [("grpc.max_receive_message_length", max_message_bytes),
                       ("grpc.max_send_message_length", max_message_bytes)]
            if creds is None:
                check_plaintext(target, f"coordinator to party {name!r}",
                                insecure_plaintext=insecure_plaintext,
                                allow_remote_plaintext=allow_remote_plaintext)
                channel = grpc.insecure_channel(target, options=options)
            else:
                channel = grpc.secure_channel(target, creds, options=[
                    ("grpc.ssl_target_name_override", name), ("grpc.default_authority", name),
                    *options])
            self._channels[name] = channel
            self._calls[name] = channel.unary_unary(EXCHANGE)
        self._pool = futures.ThreadPoolExecutor(max_workers=max(1, len(endpoints)))

    @property
    def party_names(self) -> list[str]:
        """Names of the configured parties."""
        return list(self._channels)

    def colocate(self, group: Any) -> None:
        """Remote parties each run their own critic: there is nothing to co-locate."""
        raise DAGANError("remote parties cannot share a critic bank")

    def close(self) -> None:
        """Close the channels."""
        for channel in self._channels.values():
            channel.close()
        self._pool.shutdown(wait=False)

    # ---- sending ----------------------------------------------------------------------------
    def send(self, party: str, message: object) -> Any:
        """Deliver ``message`` to ``party`` and return its checked reply."""
        reply, sent, received = self._exchange(party, message)
        self._count(party, message, reply, sent, received)
        return reply

    def send_round(self, parties: list[str], messages: list[object]) -> list[Any]:
        """Deliver one message to each party, all at once; replies in the same order."""
        jobs = [self._pool.submit(self._exchange, p, x) for p, x in zip(parties, messages)]
        results = [job.result() for job in jobs]  # the first failure, in party order, raises
        for party, message, (reply, sent, received) in zip(parties, messages, results):
            self._count(party, message, reply, sent, received)
        return [reply for reply, _, _ in results]

    def control(self, party: str, message: object) -> Any:
        """Deliver a set-up message of :mod:`.control` and return the checked reply.

        Its bytes are counted in :attr:`bytes_by_type`, not in the training bytes of the epoch.
        """
        reply, sent, received = self._exchange(party, message)
        self._count_types(message, reply, sent, received)
        return reply

    def _step(self, party: str, message: object) -> str:
        if isinstance(message, CONTROL_REQUESTS):
            return type(message).__name__
        label = f"{type(message).__name__} of training step {self._steps[party] + 1}"
        if isinstance(message, m.GeneratorStep):  # the last message of a training step
            self._steps[party] += 1
        return label

    def _exchange(self, party: str, message: object) -> tuple[Any, int, int]:
        if party not in self._calls:
            raise DAGANError(f"no endpoint configured for party {party!r}")
        step = self._step(party, message)
        try:
            data = codec.encode(message, session=self.session, seq=self._seq[party] + 1)
        except CodecError as exc:
            raise ProtocolError(f"request not sent: {exc}", party=party, step=step) from None
        self._seq[party] += 1
        answer = self._call_with_retries(party, step, data)
        try:
            frame = codec.decode(answer, direction="reply")
        except CodecError as exc:
            raise ProtocolError(f"malformed reply: {exc}", party=party, step=step) from None
        if frame.session != self.session or frame.seq != self._seq[party]:
            raise ProtocolError(f"reply to request {frame.seq} of session {frame.session!r}, "
                                f"expected request {self._seq[party]}", party=party, step=step)
        check_reply(message, frame.message, party=party, step=step)
        return frame.message, len(data), len(answer)

    def _call_with_retries(self, party: str, step: str, data: bytes) -> bytes:
        deadline = time.monotonic() + self.retry_for
        wait = self.backoff[0]
        while True:
            try:
                return self._calls[party](data, timeout=self.timeout)
            except grpc.RpcError as err:
                code, detail = err.code(), err.details() or ""
                if code not in _RETRY:
                    raise _refusal(code, detail, party, step) from None
                if _is_tls_failure(detail):
                    raise PartyRefusedError(f"secure connection refused: {detail}",
                                            party=party, step=step) from None
                if time.monotonic() + wait > deadline:
                    hint = _CLOSED_HINT if "socket closed" in detail.lower() else ""
                    raise PartyUnavailableError(
                        f"no answer within {self.retry_for:g} s of retries "
                        f"(last error: {code.name}: {detail}){hint}", party=party,
                        step=step) from None
                time.sleep(wait)
                wait = min(wait * 2, self.backoff[1])


def _is_tls_failure(detail: str) -> bool:
    low = detail.lower()
    return any(hint in low for hint in _TLS_HINTS)


def _refusal(code: grpc.StatusCode, detail: str, party: str, step: str) -> RemotePartyError:
    if code in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED):
        return PartyRefusedError(f"refused: {detail}", party=party, step=step)
    if code == grpc.StatusCode.ABORTED:  # the party refused the set-up; detail says why
        return PartyRefusedError(detail, party=party, step=step)
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return ProtocolError(f"message too large: {detail}", party=party, step=step)
    return ProtocolError(f"{code.name}: {detail}", party=party, step=step)


def check_reply(request: object, reply: object, *, party: str, step: str) -> None:
    """Refuse a reply that does not answer ``request`` in type or shape."""
    want = codec.ANSWERS[type(request).__name__]
    if type(reply).__name__ != want:
        raise ProtocolError(f"replied {type(reply).__name__} to {type(request).__name__}, "
                            f"expected {want}", party=party, step=step)
    if isinstance(reply, m.Conditions):
        n = {len(reply.blocks), len(reply.categories), len(reply.party_codes)}
        if len(n) != 1:
            raise ProtocolError("conditions of unequal lengths", party=party, step=step)
        if isinstance(request, m.ConditionRequest) and n != {request.n}:
            raise ProtocolError(f"{n.pop()} conditions for {request.n} requested",
                                party=party, step=step)
    if isinstance(reply, m.GeneratorFeedback):
        fake = request.fake_rows
        if (tuple(reply.row_gradients.shape) != tuple(fake.shape)
                or reply.row_gradients.dtype != fake.dtype):
            raise ProtocolError(
                f"gradients of shape {tuple(reply.row_gradients.shape)} "
                f"({reply.row_gradients.dtype}) for fake rows {tuple(fake.shape)} "
                f"({fake.dtype})", party=party, step=step)
        if reply.row_weights.shape != (fake.shape[0],):
            raise ProtocolError(f"{reply.row_weights.shape} row weights for "
                                f"{fake.shape[0]} rows", party=party, step=step)
