"""The demo with every party in a process of its own, reached over gRPC with mutual TLS.

Steps: create a certificate authority, the coordinator's and one certificate per party (in a
temporary folder); start ``dagan party serve`` for each party folder of the landing area (each
validates its own files with the shared contract into its own store, then serves its critic on
127.0.0.1); fit DAGAN at the coordinator through ``RemoteFederation`` (the coordinator never reads a
party file: it gets each party's summary at the set-up and trains over the wire); save the model,
sample a few rows, print the bytes per message type; stop the parties.

Entry points: ``make demo-federated`` and ``python -m pipelines.federated_demo``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _start_party(party: str, landing: Path, work: Path, certs) -> subprocess.Popen:
    files = certs.parties[party]
    command = [sys.executable, "-m", "pipelines.cli", "party", "serve", "--party", party,
               "--landing", str(landing), "--store", str(work / "stores" / party),
               "--listen", "127.0.0.1:0", "--ca", str(files.ca), "--cert", str(files.cert),
               "--key", str(files.key)]
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "false", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)


def _address(proc: subprocess.Popen, party: str) -> str:
    line = proc.stdout.readline()
    if not line:
        raise SystemExit(f"party {party!r} did not start (exit status {proc.wait()})")
    return json.loads(line)["address"]


def run(landing: Path, epochs: int, work: Path, hyperparameters: dict | None = None) -> dict:
    """Start the parties, fit over gRPC, stop them; returns what the demo prints.

    ``hyperparameters``: more ``make_synthesizer`` arguments (seed 0 and CPU unless given).
    """
    import dagan_core
    from dagan_core.federation.remote.tls import make_certificates
    from pipelines import settings
    from pipelines.contracts import model_columns
    from pipelines.federation.federation_file import contract_fingerprint

    parties = sorted(p.name for p in landing.iterdir() if p.is_dir())
    certs = make_certificates(work / "certs", parties)
    procs = {p: _start_party(p, landing, work, certs) for p in parties}
    try:
        endpoints = {p: _address(procs[p], p) for p in parties}
        remote = dagan_core.RemoteFederation(
            endpoints, certs.coordinator, contract_fingerprint(settings.party_contract_path()))
        columns = model_columns()
        synth = dagan_core.make_synthesizer(
            "dagan", **{"seed": 0, "device": "cpu", **(hyperparameters or {}), "epochs": epochs})
        start = time.perf_counter()
        run = synth.begin_fit(remote, label=columns.label,
                              discrete_columns=list(columns.discrete_columns))
        while run.epochs_left:
            stats = run.run_epoch()
            sys.stderr.write(f"epoch {stats.epoch + 1}/{epochs}: generator loss "
                             f"{stats.generator_loss:.3f}, {stats.seconds:.1f}s, "
                             f"{stats.bytes_exchanged / 1e6:.1f} MB over the wire\n")
        run.finish()
        seconds = time.perf_counter() - start
        synth.save(work / "model")
        return {"parties": endpoints, "fit_seconds": round(seconds, 1),
                "model": str(work / "model"),
                "bytes_by_type": dict(run.trainer.transport.bytes_by_type),
                "sample": synth.sample(5, seed=1).to_dict(orient="records")}
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            proc.wait(30)
            proc.stdout.close()


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    from pipelines import settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--landing", type=Path, default=settings.landing_dir(),
                        help="landing area, one folder per party (default: the demo's)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None,
                        help="folder for certificates, party stores and the model "
                        "(default: a new temporary folder)")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="dagan-federated-"))
    result = run(args.landing, args.epochs, work)
    sys.stdout.write(json.dumps(result, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
