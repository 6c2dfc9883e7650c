"""Run the real ingest assets on a temporary landing area and collect what a person would see."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from pipelines.defs.ingest import raw_party_table, validated_party_table
from pipelines.defs.summaries import party_summary
from pipelines.resources import LandingArea, PartyStore

REPO = Path(__file__).resolve().parents[2]
INGEST = [raw_party_table, validated_party_table]
WITH_SUMMARY = [*INGEST, party_summary]


def resources(tmp_path: Path) -> dict[str, object]:
    return {
        "landing": LandingArea(root=str(tmp_path / "landing")),
        "party_store": PartyStore(root=str(tmp_path / "parties")),
        "io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path / "io")),
    }


def _error_text(error) -> str:
    parts = []
    while error is not None:
        parts.append(error.message)
        error = error.cause
    return "\n".join(parts)


@dataclass
class IngestRun:
    """One materialization of a party's ingest assets and everything it left behind."""

    result: dg.ExecuteInProcessResult
    log: str  # every message of the run's event log, step failures included
    store: PartyStore
    party: str

    @property
    def materialized(self) -> set[str]:
        return {
            e.asset_key.to_user_string() for e in self.result.get_asset_materialization_events()
        }

    @property
    def check(self):
        evaluations = self.result.get_asset_check_evaluations()
        assert len(evaluations) <= 1
        return evaluations[0] if evaluations else None

    def meta(self, asset: str) -> dict:
        (event,) = self.result.asset_materializations_for_node(asset)
        return {k: getattr(v, "value", v) for k, v in event.metadata.items()}

    def table(self, name: str) -> pd.DataFrame | None:
        if not self.store.has_table(self.party, name):
            return None
        return getattr(self.store, f"read_{name}")(self.party)


def run_ingest(
    tmp_path: Path, instance: dg.DagsterInstance, party: str, assets=INGEST
) -> IngestRun:
    """Materialize ``assets`` for ``party`` (raising nothing) and read back its run log."""
    if party not in instance.get_dynamic_partitions("parties"):
        instance.add_dynamic_partitions("parties", [party])
    res = resources(tmp_path)
    result = dg.materialize(
        assets, partition_key=party, instance=instance, resources=res, raise_on_error=False
    )
    lines = []
    for record in instance.all_logs(result.run_id):
        lines.append(record.user_message or "")
        event = record.dagster_event
        if event is not None and event.is_step_failure:
            lines.append(_error_text(event.step_failure_data.error))
    return IngestRun(result, "\n".join(lines), res["party_store"], party)


def other_user() -> tuple[list[str], tuple[int, int] | None]:
    """How to start a child that file modes stop. Root reads any file whatever its mode, so as
    root the child runs as ``nobody`` through ``setpriv``: returns that command prefix and the
    (uid, gid) to give the folders the child writes. As anyone else: no prefix, no owner change.
    Skips the test when root lacks ``setpriv`` or the user ``nobody``."""
    if os.geteuid() != 0:
        return [], None
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: no way to run the ingest as a user that "
                    "file modes stop (root reads any file)")
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("running as root and there is no user 'nobody' to run the ingest as")
    prefix = ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups"]
    return prefix, (nobody.pw_uid, nobody.pw_gid)


def ingest_in_child(work: Path, party: str, prefix: list[str]) -> dict:
    """Run :func:`main` (one ingest of ``party`` on ``work``) in a child process started with
    ``prefix`` and this interpreter; returns its JSON report (success, materialized, log).

    The other user must be able to load the interpreter, the virtual environment and this
    repository; when it cannot (say a clone under a 0700 home), the test is skipped, naming why.
    """
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "false",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [*prefix, sys.executable, "-m", "tests.reliability.ingest_harness", str(work), party],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    cannot_load = ("ImportError", "ModuleNotFoundError", "PermissionError")
    if prefix and not done.stdout and any(e in done.stderr for e in cannot_load):
        pytest.skip(f"the user the child runs as cannot load the project from {REPO} with "
                    f"{sys.executable}: {done.stderr.strip().splitlines()[-1]}")
    assert done.returncode == 0 and done.stdout, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def main(argv: list[str]) -> int:
    """``python -m tests.reliability.ingest_harness <work folder> <party>``: one ingest run in a
    process of its own (for instance as another user), on ``<work folder>/landing/<party>/``; the
    party store and the IO manager's folder are written under ``<work folder>``. Prints a JSON
    object: whether the run succeeded, the assets materialized and the run log."""
    work, party = Path(argv[0]), argv[1]
    with dg.DagsterInstance.ephemeral() as instance:
        run = run_ingest(work, instance, party)
        out = {"success": run.result.success, "materialized": sorted(run.materialized),
               "log": run.log}
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
