"""Test parties and servers: in-thread servers, and a party server in its own process."""

from __future__ import annotations

import os
from contextlib import contextmanager

import numpy as np

from dagan_core.federation import messages as m


class CountingParty:
    """Answers conditions and critic steps with fixed values; counts what it applied."""

    def __init__(self, width: int = 3):
        """``width``: the width of the fake rows it expects."""
        self.applied: list[str] = []
        self.layout = type("Layout", (), {"data_dim": width})()

    def handle(self, message: object) -> object:
        """Answer one message."""
        self.applied.append(type(message).__name__)
        if isinstance(message, (m.ConditionRequest, m.FitProbe)):
            n = message.n if isinstance(message, m.ConditionRequest) else 2
            zeros = np.zeros(n, dtype=np.int64)
            return m.Conditions(zeros, zeros, zeros)
        if isinstance(message, m.CriticStep):
            return m.CriticReport(1.0, 0.5, 0.25)
        if isinstance(message, m.GeneratorStep):
            rows = message.fake_rows
            return m.GeneratorFeedback(rows * 0 + 1, np.ones(len(rows), np.float32), 0.5)
        return m.FitReport(0.1, (0.1, float("nan")), 4, 0.25, 0.6)


def serve(name: str, tls, queue) -> None:
    """Serve a :class:`CountingParty` until killed; put (pid, address) on ``queue``."""
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    from dagan_core.federation.remote.server import PartyServer

    server = PartyServer(CountingParty(), name, tls).start()
    queue.put((os.getpid(), server.address))
    server.wait()


@contextmanager
def serving(parties, certs, **kwargs):
    """Serve each party object over mutual TLS on an ephemeral port; yield name -> address."""
    from dagan_core.federation.remote.server import PartyServer

    servers = {name: PartyServer(party, name, certs.parties[name], **kwargs).start()
               for name, party in parties.items()}
    try:
        yield {name: s.address for name, s in servers.items()}
    finally:
        for s in servers.values():
            s.stop(0)


def serve_table(name: str, table, tls, state_dir, fingerprint: str, queue) -> None:
    """Serve a real party (its table, its critic) until killed; put (pid, address) on ``queue``."""
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    import torch

    from dagan_core.federation.remote.party_host import serve_party

    torch.set_num_threads(1)
    serve_party(table, name, "y", None, tls, "127.0.0.1:0", state_dir, fingerprint,
                on_ready=lambda address: queue.put((os.getpid(), address)))


@contextmanager
def hosting(tables, certs, state_root, fingerprint="contract-1", fingerprints=None):
    """Serve each table as a party in this process (threads); yield name -> address."""
    from dagan_core.federation.remote.party_host import start_party

    fingerprints = fingerprints or {}
    servers = {name: start_party(table, name, "y", None, certs.parties[name], "127.0.0.1:0",
                                 state_root / name, fingerprints.get(name, fingerprint))
               for name, table in tables.items()}
    try:
        yield {name: s.address for name, s in servers.items()}
    finally:
        for s in servers.values():
            s.stop(0)
