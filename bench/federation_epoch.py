"""Seconds per epoch with in-process parties against parties in their own processes, reached
over gRPC with mutual TLS on 127.0.0.1; bytes per epoch per message type.

Adult, K parties (size ratio 20, Dirichlet β=0.1, seed 0), DAGAN with its default networks; each
point fits ``--warmup`` + ``--epochs`` epochs and reports the mean of the timed ones (from the
fit's history). The remote parties are ``serve_party`` processes (spawned), one torch thread
each; on a machine with fewer cores than K + 1 they share the cores with the coordinator, which
the report states next to the figures.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.options import add_data_dir
from bench.scenario import set_up


def _serve(name: str, table: Any, label: str, discrete: list[str], tls: Any, queue: Any) -> None:
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    import torch

    torch.set_num_threads(1)
    from dagan_core.federation.remote.party_host import serve_party

    serve_party(table, name, label, discrete, tls, "127.0.0.1:0", None, "bench",
                on_ready=lambda address: queue.put((name, address)))


def _fit(source: Any, label: str, discrete: list[str], epochs: int) -> Any:
    import dagan_core

    synth = dagan_core.make_synthesizer("dagan", epochs=epochs, seed=0, device="cpu")
    return synth.fit(source, label=label, discrete_columns=discrete)


def _remote_fit(parties: dict, label: str, discrete: list[str], epochs: int
                ) -> tuple[Any, dict[str, int]]:
    import dagan_core
    from dagan_core.federation.remote.tls import make_certificates

    certs = make_certificates(Path(tempfile.mkdtemp(prefix="dagan-certs-")), list(parties))
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_serve, daemon=True,
                         args=(p, t, label, discrete, certs.parties[p], queue))
             for p, t in parties.items()]
    for proc in procs:
        proc.start()
    try:
        found = dict(queue.get(timeout=300) for _ in procs)
        remote = dagan_core.RemoteFederation({p: found[p] for p in parties}, certs.coordinator,
                                             "bench", timeout=120)
        synth = dagan_core.make_synthesizer("dagan", epochs=epochs, seed=0, device="cpu")
        run = synth.begin_fit(remote, label=label, discrete_columns=discrete)
        while run.epochs_left:
            run.run_epoch()
        by_type = dict(run.trainer.transport.bytes_by_type)
        run.finish()
        return synth, by_type
    finally:
        for proc in procs:
            proc.terminate()
            proc.join(30)


def measure(k: int, data_dir: Path, warmup: int, epochs: int) -> dict[str, Any]:
    """One point: K parties, in process and over gRPC + mTLS."""
    import torch

    torch.set_num_threads(1)
    setup = set_up("adult", data_dir, seed=0, n_parties=k)
    total = warmup + epochs
    local = _fit(setup.parties, setup.label, setup.discrete, total)
    remote, by_type = _remote_fit(setup.parties, setup.label, setup.discrete, total)

    def mean(history: list[dict]) -> float:
        timed = history[warmup:]
        return sum(h["seconds"] for h in timed) / len(timed)

    return {"parties": k, "rows": sum(len(t) for t in setup.parties.values()),
            "in_process_s_per_epoch": round(mean(local.history), 2),
            "grpc_mtls_s_per_epoch": round(mean(remote.history), 2),
            "ratio": round(mean(remote.history) / mean(local.history), 2),
            "bytes_per_epoch_by_type": {t: n // total for t, n in sorted(by_type.items())},
            "same_model": bool(all(
                torch.equal(a, b) for a, b in zip(
                    local.model.generators[0].state_dict().values(),
                    remote.model.generators[0].state_dict().values())))}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; prints one JSON line per point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parties", type=int, nargs="+", default=[5, 20])
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=1)
    add_data_dir(parser)
    args = parser.parse_args(argv)
    for k in args.parties:
        start = time.perf_counter()
        point = measure(k, args.data_dir, args.warmup, args.epochs)
        point["wall_s"] = round(time.perf_counter() - start, 1)
        point["cores"] = os.cpu_count()
        sys.stdout.write(json.dumps(point) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
