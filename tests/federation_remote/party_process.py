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
        return m.FitReport(0.1, (0.1, float("nan")), 4)


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


def serve_table(name: str, table, tls, contract: str, queue) -> None:
    """``serve_party`` for one table in a process of its own; put the address on ``queue``."""
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    import torch

    torch.set_num_threads(1)
    from dagan_core.federation.remote.party_host import serve_party

    serve_party(table, name, tls, contract=contract, ready=queue.put)


@contextmanager
def party_processes(tables, certs, contract: str, contracts=None):
    """Each table served by ``serve_party`` in a spawned process; yield name -> address."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = {}
    try:
        for name, table in tables.items():
            own = (contracts or {}).get(name, contract)
            procs[name] = ctx.Process(target=serve_table, daemon=True,
                                      args=(name, table, certs.parties[name], own, queue))
            procs[name].start()
        addresses = [queue.get(timeout=120) for _ in procs]
        by_port = {a.rsplit(":", 1)[1]: a for a in addresses}
        yield _match(tables, procs, by_port, certs)
    finally:
        for proc in procs.values():
            proc.kill()
            proc.join(10)


def _match(tables, procs, by_port, certs):
    """Which address is which party's: ask each address for the certificate it shows."""
    import ssl

    names = {}
    for address in by_port.values():
        host, port = address.rsplit(":", 1)
        pem = ssl.get_server_certificate((host, int(port)))
        for name in tables:
            if pem.strip() == certs.parties[name].cert.read_text().strip():
                names[name] = address
    return {name: names[name] for name in tables}  # the tables' order: the parties' codes
