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

import numpy as np

from bench.federation_profile import StepProfile
from bench.options import add_data_dir
from bench.scenario import set_up


def _serve(name: str, table: Any, label: str, discrete: list[str], tls: Any, queue: Any
           ) -> None:
    """A party process; ``tls=None`` serves plaintext gRPC (loopback only)."""
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    import signal
    import threading

    import torch

    torch.set_num_threads(1)
    from bench.federation_profile import party_timer
    from dagan_core.federation.remote.party_host import start_party

    plain = {} if tls is not None else {"insecure_plaintext": True}
    server = start_party(table, name, label, discrete, tls, "127.0.0.1:0", None, "bench",
                         **plain)
    times = party_timer(server)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.stop,
                                                               args=(0,)).start())
    queue.put((name, server.address))
    server.wait()
    queue.put((name, dict(times)))  # what the party spent answering, per message type


def _run(synth: Any, source: Any, label: str, discrete: list[str], warmup: int
         ) -> tuple[Any, StepProfile]:
    run = synth.begin_fit(source, label=label, discrete_columns=discrete)
    for _ in range(warmup):
        run.run_epoch()
    run.trainer.transport.reset_counters()
    profile = StepProfile(run.trainer.transport)
    by_type = dict(run.trainer.transport.bytes_by_type)
    cpu = time.process_time()
    while run.epochs_left:
        run.run_epoch()
    profile.cpu_s = time.process_time() - cpu  # this process, all its threads
    profile.close()
    profile.bytes_by_type = {k: v - by_type.get(k, 0)
                             for k, v in run.trainer.transport.bytes_by_type.items()}
    run.finish()
    return synth, profile


def _fit(source: Any, label: str, discrete: list[str], epochs: int, warmup: int
         ) -> tuple[Any, StepProfile]:
    import dagan_core

    synth = dagan_core.make_synthesizer("dagan", epochs=epochs, seed=0, device="cpu")
    return _run(synth, source, label, discrete, warmup)


def _remote_fit(parties: dict, label: str, discrete: list[str], epochs: int, warmup: int,
                plaintext: bool = False
                ) -> tuple[Any, StepProfile, dict[str, dict[str, list[float]]]]:
    """The fit with every party in a process of its own: gRPC + mutual TLS, or plaintext gRPC
    on loopback (``plaintext``: what TLS costs)."""
    import dagan_core
    from dagan_core.federation.remote.tls import make_certificates

    certs = make_certificates(Path(tempfile.mkdtemp(prefix="dagan-certs-")), list(parties))
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_serve, daemon=True,
                         args=(p, t, label, discrete,
                               None if plaintext else certs.parties[p], queue))
             for p, t in parties.items()]
    for proc in procs:
        proc.start()
    party_times: dict[str, dict[str, list[float]]] = {}
    try:
        found = dict(queue.get(timeout=300) for _ in procs)
        remote = dagan_core.RemoteFederation(
            {p: found[p] for p in parties}, None if plaintext else certs.coordinator, "bench",
            timeout=120, **({"transport_options": {"insecure_plaintext": True}}
                            if plaintext else {}))
        synth = dagan_core.make_synthesizer("dagan", epochs=epochs, seed=0, device="cpu")
        synth, profile = _run(synth, remote, label, discrete, warmup)
        for proc in procs:
            proc.terminate()
        party_times = dict(queue.get(timeout=60) for _ in procs)
        return synth, profile, party_times
    finally:
        for proc in procs:
            proc.terminate()
            proc.join(30)


def _cpu_per_epoch(local: StepProfile, remote: StepProfile,
                   party_times: dict[str, dict[str, list[float]]], epochs: int
                   ) -> dict[str, float]:
    """CPU seconds per timed epoch: in process, and the coordinator plus every party process
    (from their CPU clocks at the last epoch ends): what the remote set-up costs in compute,
    whatever the machine's load."""
    parties = sum(t["cpu_s_at_epoch_end"][-1] - t["cpu_s_at_epoch_end"][-1 - epochs]
                  for t in party_times.values())
    return {"in_process": round(local.cpu_s / epochs, 2),
            "grpc_mtls_coordinator": round(remote.cpu_s / epochs, 2),
            "grpc_mtls_parties": round(parties / epochs, 2),
            "grpc_mtls_total": round((remote.cpu_s + parties) / epochs, 2)}


def _party_split(profile: StepProfile, party_times: dict[str, dict[str, list[float]]],
                 epochs: int) -> dict[str, Any]:
    """Per round type: the slowest party's compute and the rest of the round, per epoch."""
    out = {}
    for kind, rounds in profile.rounds.items():
        n = len(rounds)
        per_party = [t[kind][-n:] for t in party_times.values()
                     if len(t.get(kind, [])) >= n]
        if not per_party or not n:
            continue
        slowest = np.max(np.asarray(per_party), axis=0)
        mean_party = np.mean(np.asarray(per_party), axis=0)
        out[kind] = {"round_s": round(sum(rounds) / epochs, 3),
                     "slowest_party_compute_s": round(float(slowest.sum()) / epochs, 3),
                     "mean_party_compute_s": round(float(mean_party.sum()) / epochs, 3),
                     "rest_s": round((sum(rounds) - float(slowest.sum())) / epochs, 3)}
    return out


def _fedsyn_bytes_per_epoch(parties: dict, label: str, discrete: list[str]) -> int:
    """FedSyn's weight traffic per epoch (every party uploads and downloads G and C per round),
    computed from its networks' sizes as its trainer counts it."""
    import dagan_core

    synth = dagan_core.make_synthesizer("fedsyn", epochs=1, seed=0, device="cpu")
    run = synth.begin_fit(parties, label=label, discrete_columns=discrete)
    first = run.trainer._trainers()[0]
    n_values = sum(p.numel() for p in first.coordinator.generator.parameters()) + sum(
        p.numel() for p in next(iter(first.parties.values())).critic.parameters())
    rounds = synth.config.federation.fedsyn_rounds_per_epoch
    return int(2 * len(parties) * rounds * n_values * 4)


def measure(k: int, data_dir: Path, warmup: int, epochs: int) -> dict[str, Any]:
    """One point: K parties, in process, over gRPC + mTLS and over plaintext gRPC."""
    import torch

    torch.set_num_threads(1)
    setup = set_up("adult", data_dir, seed=0, n_parties=k)
    total = warmup + epochs
    load = [os.getloadavg()[0]]  # the machine's load while measuring, stated with the figures
    local, local_profile = _fit(setup.parties, setup.label, setup.discrete, total, warmup)
    load.append(os.getloadavg()[0])
    remote, profile, party_times = _remote_fit(setup.parties, setup.label, setup.discrete,
                                               total, warmup)
    load.append(os.getloadavg()[0])
    plain, _, _ = _remote_fit(setup.parties, setup.label, setup.discrete, total, warmup,
                              plaintext=True)
    load.append(os.getloadavg()[0])

    def mean(history: list[dict]) -> float:
        timed = history[warmup:]
        return sum(h["seconds"] for h in timed) / len(timed)

    return {"parties": k, "rows": sum(len(t) for t in setup.parties.values()),
            "in_process_s_per_epoch": round(mean(local.history), 2),
            "grpc_mtls_s_per_epoch": round(mean(remote.history), 2),
            "ratio": round(mean(remote.history) / mean(local.history), 2),
            "grpc_plaintext_s_per_epoch": round(mean(plain.history), 2),
            "bytes_per_epoch_by_type": {t: n // epochs
                                        for t, n in sorted(profile.bytes_by_type.items())},
            "fedsyn_weight_bytes_per_epoch": _fedsyn_bytes_per_epoch(
                setup.parties, setup.label, setup.discrete),
            "in_process_breakdown": local_profile.report(epochs, mean(local.history)),
            "grpc_mtls_breakdown": profile.report(epochs, mean(remote.history)),
            "grpc_mtls_rounds_vs_parties": _party_split(profile, party_times, epochs),
            "cpu_s_per_epoch": _cpu_per_epoch(local_profile, profile, party_times, epochs),
            "load_avg_1min_before_local_mtls_plaintext_after": [round(x, 1) for x in load],
            "same_model": _same(local, remote) and _same(local, plain)}


def _same(a: Any, b: Any) -> bool:
    """Whether two fits' generators hold the same weights, bit for bit."""
    import torch

    return all(torch.equal(x, y) for x, y in zip(a.model.generators[0].state_dict().values(),
                                                 b.model.generators[0].state_dict().values()))


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
