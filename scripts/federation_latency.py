"""Milliseconds per training step: in-process parties vs parties over gRPC with mutual TLS.

Each remote party runs in its own process on 127.0.0.1 with freshly made certificates; every
process builds the same seeded parties and serves one of them, so both set-ups train the same
model. Prints per-step p50 / p90 / mean milliseconds and the bytes per step by message type::

    python scripts/federation_latency.py --parties 3 5 --steps 30
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time

import numpy as np
import pandas as pd


def _table(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = np.where(rng.random(n) < 0.2 + 0.1 * (seed % 4), "yes", "no")
    return pd.DataFrame({"age": rng.integers(18, 80, n),
                         "amount": np.round(rng.gamma(2.0, 50.0, n), 2) + (y == "yes") * 80.0,
                         "color": rng.choice(["red", "green", "blue"], n), "y": y})


def build_trainer(k: int, batch: int):
    """The seeded trainer of a K-party fit (parties, in-process transport, coordinator)."""
    from dagan_core import make_synthesizer

    s = make_synthesizer("dagan", batch_size=batch, seed=0, device="cpu", epochs=1)
    tables = {f"party{i}": _table(600 + 300 * i, i) for i in range(k)}
    return s.begin_fit(tables, label="y").trainer


def _serve(k: int, batch: int, name: str, tls, queue) -> None:
    import torch

    torch.set_num_threads(1)
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    from dagan_core.federation.remote.server import PartyServer

    server = PartyServer(build_trainer(k, batch).parties[name], name, tls).start()
    queue.put((name, server.address))
    server.wait()


def _time_steps(trainer, steps: int, warmup: int = 3) -> np.ndarray:
    stats: dict = {}
    for _ in range(warmup):
        trainer.coordinator.step(stats)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        trainer.coordinator.step(stats)
        times.append(time.perf_counter() - start)
    return np.asarray(times) * 1000


def _report(label: str, ms: np.ndarray) -> None:
    print(f"  {label:<16} p50 {np.percentile(ms, 50):7.2f} ms   p90 "  # noqa: T201
          f"{np.percentile(ms, 90):7.2f} ms   mean {ms.mean():7.2f} ms")


def measure(k: int, steps: int, batch: int) -> None:
    """Print per-step latency for K parties in process and over gRPC/mTLS."""
    from dagan_core.federation.remote.client import RemoteTransport
    from dagan_core.federation.remote.tls import make_certificates

    print(f"K={k} parties, batch {batch}, {steps} steps")  # noqa: T201
    _report("in-process", _time_steps(build_trainer(k, batch), steps))
    names = [f"party{i}" for i in range(k)]
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    with tempfile.TemporaryDirectory() as tmp:
        certs = make_certificates(tmp, names)
        procs = [ctx.Process(target=_serve, args=(k, batch, n, certs.parties[n], queue),
                             daemon=True) for n in names]
        for p in procs:
            p.start()
        try:
            endpoints = dict(queue.get(timeout=300) for _ in names)
            trainer = build_trainer(k, batch)
            transport = RemoteTransport({n: endpoints[n] for n in names}, certs.coordinator)
            trainer.coordinator.transport = transport
            _report("gRPC + mTLS", _time_steps(trainer, steps))
            total = sum(transport.bytes_by_type.values())
            per_type = ", ".join(f"{t} {v / (steps + 3) / 1024:.1f}" for t, v in
                                 sorted(transport.bytes_by_type.items()))
            print(f"  bytes per step: {total / (steps + 3) / 1024:.1f} kB ({per_type})")  # noqa: T201
            transport.close()
        finally:
            for p in procs:
                p.kill()


def main(argv: list[str] | None = None) -> int:
    """Parse the flags and measure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parties", type=int, nargs="+", default=[3, 5])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    for k in args.parties:
        measure(k, args.steps, args.batch)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
