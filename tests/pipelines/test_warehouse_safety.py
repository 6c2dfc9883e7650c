"""Analysts cannot damage the published warehouse, reconnecting sees new data, and a full disk
leaves no partial copy behind; each through a real Dagster materialization and real duckdb."""

from __future__ import annotations

import errno
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from pipelines.resources import warehouse_files
from pipelines.resources.warehouse import Warehouse
from scripts import sql_shell


def _publisher(version: str, n: int) -> dg.AssetsDefinition:
    @dg.asset(name=f"publish_{version}")
    def publish(warehouse: Warehouse) -> dg.MaterializeResult:
        frame = pd.DataFrame({"model_version": [version] * n, "x": range(n)})
        written = warehouse.publish(
            lambda w: w.replace_partition("rows", frame, "model_version", version, "synthetic")
        )
        return dg.MaterializeResult(value=written)

    return publish


def _materialize(warehouse: Warehouse, version: str, n: int) -> dg.ExecuteInProcessResult:
    with dg.DagsterInstance.ephemeral() as instance:
        return dg.materialize([_publisher(version, n)], resources={"warehouse": warehouse},
                              instance=instance, raise_on_error=False)


def _counts(warehouse: Warehouse) -> dict[str, int]:
    got = warehouse.query("SELECT model_version, count(*) AS n FROM synthetic.rows GROUP BY 1")
    return dict(got.values.tolist())


def _analyst(path: Path, *, killed: bool) -> None:
    """An analyst's plain ``duckdb.connect(path)`` (read-write), one insert, then killed (WAL left)
    or closed cleanly (the change checkpointed into the file)."""
    code = textwrap.dedent(
        f"""
        import os, duckdb
        con = duckdb.connect({str(path)!r})
        con.execute("INSERT INTO synthetic.rows VALUES ('analyst', 99)")
        if {killed!r}:
            os._exit(9)
        con.close()
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == (9 if killed else 0), done.stderr


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    wh = Warehouse(path=str(tmp_path / "wh" / "dagan_warehouse.duckdb"))
    assert _materialize(wh, "v1", 3).success
    return wh


@pytest.mark.parametrize("killed", [True, False], ids=["killed-session", "closed-session"])
def test_read_write_session_is_set_aside_and_nothing_is_lost(
    warehouse: Warehouse, killed: bool, caplog: pytest.LogCaptureFixture, capsys
) -> None:
    _analyst(warehouse.file, killed=killed)
    caplog.set_level(logging.WARNING, logger="pipelines.resources.warehouse")

    # every reader works, make sql included (the reader sets the damaged file aside) ...
    assert sql_shell.main(["--path", str(warehouse.file), "-c",
                           "SELECT count(*) AS n FROM synthetic.rows"]) == 0
    assert capsys.readouterr().out.split() == ["n", "3"]
    # ... and so does the next publish
    assert _materialize(warehouse, "v2", 2).success
    assert _counts(warehouse) == {"v1": 3, "v2": 2}
    plain = duckdb.connect(str(warehouse.file), read_only=True)
    assert plain.execute("SELECT count(*) FROM synthetic.rows").fetchone()[0] == 5
    plain.close()

    # the analyst's file and writes are kept, named in the warning
    aside = sorted(warehouse.file.parent.glob("dagan_warehouse.set-aside-*.duckdb"))
    assert len(aside) == 1
    warning = next(r.getMessage() for r in caplog.records if "set-aside" in r.getMessage())
    assert str(aside[0]) in warning and "opened read-write outside the pipeline" in warning
    assert warehouse_files.wal_of(aside[0]).exists() == killed
    kept = duckdb.connect(str(aside[0]))
    assert kept.execute("SELECT x FROM synthetic.rows WHERE model_version = 'analyst'"
                        ).fetchall() == [(99,)]
    kept.close()
    # no WAL beside any published file, and the published generation is read-only
    folder = warehouse.file.parent / "dagan_warehouse.duckdb.d"
    assert not list(folder.glob("*.wal")) and not Path(f"{warehouse.file}.wal").exists()
    assert warehouse.file.resolve().stat().st_mode & 0o777 == 0o444
    # generation names are never reused (duckdb caches databases by file name)
    assert warehouse.file.resolve().name == "dagan_warehouse.g000003.duckdb"


def test_read_write_connect_of_another_user_is_refused_by_the_file_mode() -> None:
    """What stops most damage up front: a published generation is mode 0444, so an analyst's
    plain ``duckdb.connect(path)`` (read-write by default) fails; read-only works."""
    as_other = []
    if os.geteuid() == 0:  # root ignores file modes: run the analyst as nobody
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv")
        as_other = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    folder = Path(tempfile.mkdtemp(prefix="dagan-wh-"))
    try:
        folder.chmod(0o1777)  # the folder itself would let the analyst write a WAL
        wh = Warehouse(path=str(folder / "dagan_warehouse.duckdb"))
        assert _materialize(wh, "v1", 3).success
        (folder / "dagan_warehouse.duckdb.d").chmod(0o1777)
        code = textwrap.dedent(
            f"""
            import duckdb
            try:
                duckdb.connect({str(wh.file)!r})
            except duckdb.IOException as err:
                print(err)
            con = duckdb.connect({str(wh.file)!r}, read_only=True)
            print(con.execute("SELECT count(*) FROM synthetic.rows").fetchone()[0])
            """
        )
        done = subprocess.run([*as_other, sys.executable, "-c", code], capture_output=True,
                              text=True)
        assert done.returncode == 0, done.stderr
        refusal, count = done.stdout.strip().splitlines()
        assert refusal == (f'IO Error: Cannot open file "{wh.file.resolve()}": Permission denied')
        assert count == "3"
        assert not list(folder.glob("**/*.wal"))
    finally:
        shutil.rmtree(folder)


def test_live_read_write_session_does_not_block_readers_or_publishing(
    warehouse: Warehouse,
) -> None:
    code = textwrap.dedent(
        f"""
        import sys, duckdb
        con = duckdb.connect({str(warehouse.file)!r})
        con.execute("INSERT INTO synthetic.rows VALUES ('analyst', 7)")
        print("ready", flush=True)
        sys.stdin.readline()
        con.close()
        """
    )
    session = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert session.stdout.readline().strip() == "ready"
        assert _counts(warehouse) == {"v1": 3}  # the reader moved past the held file
        assert _materialize(warehouse, "v2", 2).success
        assert _counts(warehouse) == {"v1": 3, "v2": 2}
    finally:
        session.communicate("\n", timeout=60)
    aside = list(warehouse.file.parent.glob("dagan_warehouse.set-aside-*.duckdb"))
    assert len(aside) == 1
    kept = duckdb.connect(str(aside[0]), read_only=True)
    assert kept.execute("SELECT count(*) FROM synthetic.rows WHERE x = 7").fetchone()[0] == 1
    kept.close()


def test_reconnecting_in_the_same_process_sees_the_new_version(warehouse: Warehouse) -> None:
    first = duckdb.connect(str(warehouse.file), read_only=True)  # what the README tells analysts
    try:
        assert _materialize(warehouse, "v2", 2).success
        again = duckdb.connect(str(warehouse.file), read_only=True)
        assert again.execute("SELECT count(*) FROM synthetic.rows").fetchone()[0] == 5
        again.close()
        assert first.execute("SELECT count(*) FROM synthetic.rows").fetchone()[0] == 3
    finally:
        first.close()


@pytest.mark.parametrize("failing_copy", [1, 2], ids=["working-copy", "published-copy"])
def test_full_disk_leaves_no_partial_copy_and_names_the_file(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch, failing_copy: int
) -> None:
    before = warehouse.file.read_bytes()
    calls: list[Path] = []

    def copy_until_full(src, dst):
        calls.append(Path(dst))
        if len(calls) != failing_copy:
            return shutil.copyfile(src, dst)
        with open(src, "rb") as fin, open(dst, "wb") as fout:
            fout.write(fin.read(4096))  # the disk fills up part way
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(warehouse_files.shutil, "copyfile", copy_until_full)
    result = _materialize(warehouse, "v2", 2)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    message = failure.step_failure_data.error.cause.message
    assert f"could not write the warehouse copy {calls[-1]} (No space left on device)" in message
    assert "the partial copy was removed" in message
    monkeypatch.undo()
    folder = warehouse.file.parent / "dagan_warehouse.duckdb.d"
    assert sorted(p.name for p in folder.iterdir()) == [
        "dagan_warehouse.g000001.duckdb", "master.duckdb", "published.json"]
    assert warehouse.file.read_bytes() == before and _counts(warehouse) == {"v1": 3}
