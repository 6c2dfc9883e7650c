"""The demo with every party in a process of its own, driven through Dagster over gRPC + mTLS.

Steps: create a certificate authority, the coordinator's and one certificate per party (in a
work folder); start ``dagan party serve`` for each party folder of the landing area (each
validates its own files with the shared contract into its own store, then serves its critic on
127.0.0.1); write the coordinator's federation file; load the code location in remote mode from
it and run, through Dagster: the parties' connection checks, each party's report and summary
(``party_reports_job``), then ``training_job`` (encoder, model trained over the wire, synthetic
rows, metrics); stop the parties. The coordinator never reads a party file.

Entry points: ``make demo-federated`` and ``python -m pipelines.federated_demo``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: the demo's evaluation: one quick utility model on a capped sample
EVALUATION = {"models": ["lr"], "max_rows": 4000}


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


def start_parties(landing: Path, work: Path) -> tuple[dict, Path, dict[str, str]]:
    """Certificates, one ``dagan party serve`` process per party folder, the federation file.

    Returns the processes, the federation file and the endpoints; stop the processes with
    :func:`stop_parties` whatever happens.
    """
    from dagan_core.federation.remote.tls import make_certificates
    from pipelines.federation_file import write_federation

    parties = sorted(p.name for p in landing.iterdir() if p.is_dir())
    certs = make_certificates(work / "certs", parties)
    procs = {}
    try:
        for party in parties:
            procs[party] = _start_party(party, landing, work, certs)
        endpoints = {p: _address(procs[p], p) for p in parties}
    except BaseException:
        stop_parties(procs)
        raise
    path = write_federation(work / "federation.yaml", endpoints, certs.coordinator.ca,
                            certs.coordinator.cert, certs.coordinator.key)
    return procs, path, endpoints


def stop_parties(procs: Mapping[str, subprocess.Popen]) -> None:
    """SIGTERM every party, then wait for it."""
    for proc in procs.values():
        proc.terminate()
    for proc in procs.values():
        proc.wait(30)
        proc.stdout.close()


def _ok(result: Any, what: str) -> Any:
    if not result.success:
        raise SystemExit(f"federated demo step failed: {what}")
    return result


def run_dagster(federation_file: Path, version: str, training: Mapping[str, Any],
                summary: Mapping[str, Any] | None = None,
                evaluation: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Materialize the remote-mode code location of ``federation_file`` for ``version``.

    Uses the current Dagster instance (``DAGSTER_HOME``) and ``DAGAN_VAR_DIR``. Returns the
    connection states, each party's report, and the model, rows and metrics of ``version``.
    """
    import dagster as dg

    from pipelines.definitions import build_defs
    from pipelines.federation_file import read_federation

    defs = build_defs(federation_file)
    instance = dg.DagsterInstance.get()
    if not instance.has_dynamic_partition("model_versions", version):
        instance.add_dynamic_partitions("model_versions", [version])
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    checks = _ok(defs.resolve_job_def("party_connections_job").execute_in_process(
        instance=instance, run_config=quiet), "party connection checks")
    out: dict[str, Any] = {"connections": {
        e.asset_key.path[-1]: {"passed": e.passed, **{k: v.value for k, v in e.metadata.items()}}
        for e in checks.get_asset_check_evaluations()}, "parties": {}}
    summary_config = {"ops": {"party_summary": {"config": dict(summary or {})}}}
    for party in read_federation(federation_file).parties:
        result = _ok(defs.resolve_job_def("party_reports_job").execute_in_process(
            partition_key=party, instance=instance, run_config={**quiet, **summary_config}),
            f"party report of {party}")
        (event,) = result.asset_materializations_for_node("validated_party_table")
        out["parties"][party] = {k: event.metadata[k].value for k in
                                 ("endpoint", "rows_read", "rows_validated", "rows_quarantined")
                                 if k in event.metadata}
    run_config = {**quiet, "ops": {
        "dagan_model": {"config": {"device": "cpu", **training}},
        "utility_metrics": {"config": {**EVALUATION, **(evaluation or {})}}}}
    result = _ok(defs.resolve_job_def("training_job").execute_in_process(
        partition_key=version, instance=instance, run_config=run_config), "training_job")
    for node in ("dagan_model", "synthetic_table", "utility_metrics"):
        (event,) = result.asset_materializations_for_node(node)
        out[node] = {k: v.value for k, v in event.metadata.items()
                     if k in ("checkpoint", "history_summary", "training_seconds",
                              "dagster/row_count", "summary")}
    return out


def run(landing: Path, epochs: int, work: Path, hyperparameters: dict | None = None, *,
        version: str = "federated", summary: Mapping[str, Any] | None = None,
        evaluation: Mapping[str, Any] | None = None) -> dict:
    """Start the parties, drive the pipeline through Dagster, stop them; returns what the demo
    prints. ``hyperparameters``: more ``dagan_model`` config (seed 0 and CPU unless given).

    Dagster's instance and the pipeline's files go to ``work`` unless ``DAGSTER_HOME`` /
    ``DAGAN_VAR_DIR`` are set.
    """
    from pipelines.demo import prepare_dagster_home

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    os.environ.setdefault("DAGAN_VAR_DIR", str(work / "var"))
    if "DAGSTER_HOME" not in os.environ:
        prepare_dagster_home(work / "dagster_home")
    procs, federation_file, endpoints = start_parties(landing, work)
    try:
        training = {"seed": 0, **(hyperparameters or {}), "epochs": epochs}
        result = run_dagster(federation_file, version, training, summary, evaluation)
    finally:
        stop_parties(procs)
    return {"federation_file": str(federation_file), "endpoints": endpoints, **result}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    from pipelines import settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--landing", type=Path, default=settings.landing_dir(),
                        help="landing area, one folder per party (default: the demo's)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--version", default="federated", help="model version (partition key)")
    parser.add_argument("--work", type=Path, default=None,
                        help="folder for certificates, party stores, the federation file, "
                        "Dagster's instance and the pipeline's files (default: a new temporary "
                        "folder)")
    args = parser.parse_args(argv)
    work = (args.work or Path(tempfile.mkdtemp(prefix="dagan-federated-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    result = run(args.landing, args.epochs, work, version=args.version)
    sys.stdout.write(json.dumps(result, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
