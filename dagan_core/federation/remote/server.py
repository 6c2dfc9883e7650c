"""A party answering the coordinator over gRPC with mutual TLS.

:class:`PartyServer` wraps an in-process party object (the same class the in-process transport
delivers to: anything with ``handle(message)``) behind one generic gRPC method, ``EXCHANGE``.
Every request is checked before the party sees it: the caller's certificate must be signed by
the trusted authority (TLS) and name the coordinator; the frame must decode to a request type
with well-formed arrays; fake rows must have the width of the party's rows and as many rows as
the conditions the party drew last. Requests are applied one at a time, in sequence order; a
request repeated with the same session and sequence number (a retry) is answered from a cache of
the last reply instead of being applied twice. A status request (read-only) is answered outside
that order, so a connection check may call while the coordinator trains.
"""

from __future__ import annotations

import logging
import threading
from concurrent import futures
from typing import Any

import grpc

from dagan_core.federation import messages as m
from dagan_core.federation.remote import codec
from dagan_core.federation.remote.control import StatusRequest
from dagan_core.federation.remote.errors import CodecError, SetupRefused
from dagan_core.federation.remote.plaintext import check_plaintext
from dagan_core.federation.remote.tls import COORDINATOR, TLSFiles

logger = logging.getLogger(__name__)

SERVICE = "dagan.federation.v1.Party"
METHOD = "Exchange"
EXCHANGE = f"/{SERVICE}/{METHOD}"
MAX_MESSAGE_BYTES = 64 * 1024 * 1024


class _Refusal(Exception):
    def __init__(self, code: grpc.StatusCode, detail: str):
        super().__init__(detail)
        self.code, self.detail = code, detail


def _row_width(party: Any) -> int | None:
    layout = getattr(party, "layout", None)
    return None if layout is None else int(layout.data_dim)


class PartyServer:
    """Serve one party over mutual TLS (see module docstring).

    Args:
        party: the party object; it never leaves this process.
        name: the party's name (as in its certificate).
        tls: the authority the party trusts, and the party's own certificate and key.
        address: where to listen; port 0 picks a free port (see :attr:`port`).
        coordinator: the name the caller's certificate must carry.
        max_message_bytes: largest request accepted and reply sent.
    """

    def __init__(self, party: Any, name: str, tls: TLSFiles | None, *,
                 address: str = "127.0.0.1:0", coordinator: str = COORDINATOR,
                 max_message_bytes: int = MAX_MESSAGE_BYTES, insecure_plaintext: bool = False,
                 allow_remote_plaintext: bool = False):
        """Bind the port (the server answers after :meth:`start`).

        ``tls=None`` serves in plaintext, only with ``insecure_plaintext`` and on loopback
        unless ``allow_remote_plaintext`` (see :mod:`.plaintext`).
        """
        if tls is None:
            check_plaintext(address, f"party {name!r} serving",
                            insecure_plaintext=insecure_plaintext,
                            allow_remote_plaintext=allow_remote_plaintext)
        self.party = party
        self.name = name
        self.coordinator = coordinator
        self.plaintext = tls is None
        self._lock = threading.Lock()
        self._session: str | None = None
        self._seq = 0
        self._cached: bytes | _Refusal | None = None  # outcome of the last request
        self._expected_rows: int | None = None
        options = [("grpc.max_receive_message_length", max_message_bytes),
                   ("grpc.max_send_message_length", max_message_bytes)]
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=options)
        handler = grpc.unary_unary_rpc_method_handler(self._exchange)
        self._server.add_generic_rpc_handlers(
            [grpc.method_handlers_generic_handler(SERVICE, {METHOD: handler})])
        if tls is None:
            self.port = self._server.add_insecure_port(address)
        else:
            ca, cert, key = tls.read()
            creds = grpc.ssl_server_credentials([(key, cert)], root_certificates=ca,
                                                require_client_auth=True)
            self.port = self._server.add_secure_port(address, creds)
        if self.port == 0:
            raise OSError(f"party {name!r} could not listen on {address}")
        self.address = f"{address.rsplit(':', 1)[0]}:{self.port}"

    @property
    def row_width(self) -> int | None:
        """Width of the party's encoded rows (None while it has none, before its set-up)."""
        return _row_width(self.party)

    def start(self) -> PartyServer:
        """Start answering; returns self."""
        self._server.start()
        logger.info("party %r listening on %s (%s)", self.name, self.address,
                    "INSECURE plaintext" if self.plaintext else "mutual TLS")
        return self

    def stop(self, grace: float | None = None) -> None:
        """Stop answering (in-flight calls get ``grace`` seconds)."""
        self._server.stop(grace).wait()

    def wait(self) -> None:
        """Block until the server stops."""
        self._server.wait_for_termination()

    # ---- one exchange -----------------------------------------------------------------------
    def _exchange(self, data: bytes, context: grpc.ServicerContext) -> bytes:
        try:
            self._check_caller(context)
            frame = self._decode(data)
            with self._lock:
                return self._answer(frame)
        except _Refusal as refusal:
            logger.warning("party %r refused a request: %s", self.name, refusal.detail)
            context.abort(refusal.code, refusal.detail)
        raise AssertionError("unreachable")  # context.abort raises

    def _check_caller(self, context: grpc.ServicerContext) -> None:
        if self.plaintext:  # no certificates: nothing to check (loopback, asked for)
            return
        auth = context.auth_context()
        names = {n.decode(errors="replace") for n in auth.get("x509_common_name", [])}
        if self.coordinator not in names:
            who = ", ".join(sorted(names)) or "no certificate"
            raise _Refusal(grpc.StatusCode.PERMISSION_DENIED,
                           f"caller ({who}) is not the trusted coordinator "
                           f"{self.coordinator!r}")

    def _decode(self, data: bytes) -> codec.Frame:
        try:
            return codec.decode(data, direction="request")
        except CodecError as exc:
            raise _Refusal(grpc.StatusCode.INVALID_ARGUMENT, f"malformed request: {exc}") from None

    def _answer(self, frame: codec.Frame) -> bytes:
        if isinstance(frame.message, StatusRequest):  # read-only: outside the session's order
            return self._apply(frame)
        same = frame.session == self._session
        if same and frame.seq == self._seq and self._cached is not None:
            if isinstance(self._cached, _Refusal):  # a retry of a request just refused
                raise self._cached
            return self._cached  # a retry of the request just answered
        if same and frame.seq != self._seq + 1:
            raise _Refusal(grpc.StatusCode.FAILED_PRECONDITION,
                           f"request {frame.seq} out of order (last answered: {self._seq})")
        try:
            outcome: bytes | _Refusal = self._apply(frame)
        except _Refusal as refusal:
            outcome = refusal
        self._session, self._seq, self._cached = frame.session, frame.seq, outcome
        if isinstance(outcome, _Refusal):
            raise outcome
        return outcome

    def _apply(self, frame: codec.Frame) -> bytes:
        self._check_rows(frame.message)
        try:
            reply = self.party.handle(frame.message)
        except SetupRefused as exc:
            raise _Refusal(grpc.StatusCode.ABORTED, f"refused: {exc}") from None
        except Exception as exc:  # the party's own failure, reported by type and message
            raise _Refusal(grpc.StatusCode.INTERNAL,
                           f"{type(frame.message).__name__} failed: "
                           f"{type(exc).__name__}: {exc}") from None
        if isinstance(reply, m.Conditions):
            self._expected_rows = len(reply.blocks)
        try:
            return codec.encode(reply, session=frame.session, seq=frame.seq)
        except CodecError as exc:
            raise _Refusal(grpc.StatusCode.INTERNAL, f"the party's reply to "
                           f"{type(frame.message).__name__} was refused: {exc}") from None

    def _check_rows(self, message: Any) -> None:
        rows = getattr(message, "fake_rows", None)
        if rows is None:
            return
        name = type(message).__name__
        if self._expected_rows is None:
            raise _Refusal(grpc.StatusCode.FAILED_PRECONDITION,
                           f"{name} before any conditions were drawn")
        if rows.shape[0] != self._expected_rows:
            raise _Refusal(grpc.StatusCode.INVALID_ARGUMENT,
                           f"{name} has {rows.shape[0]} fake rows for "
                           f"{self._expected_rows} conditions")
        width = self.row_width if self.row_width is not None else _row_width(self.party)
        if width is not None and rows.shape[1] != width:
            raise _Refusal(grpc.StatusCode.INVALID_ARGUMENT,
                           f"{name} rows have width {rows.shape[1]}, expected {width}")
