"""The warehouse's copy-on-write publishing, checked against the real duckdb behaviour."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from pipelines.resources.warehouse import SchemaMismatchError, Warehouse
from tests.pipelines.warehouse_writes import (
    columns,
    comment_on,
    create_table_as,
    replace_partition,
    table_exists,
    write_table,
)


def _rows(version: str, n: int) -> pd.DataFrame:
    return pd.DataFrame({"model_version": [version] * n, "x": range(n), "party": ["p"] * n})


def _count(wh: Warehouse, version: str | None = None) -> int:
    sql = "SELECT count(*) AS n FROM synthetic.rows"
    if version is None:
        return int(wh.query(sql)["n"].iloc[0])
    return int(wh.query(sql + " WHERE model_version = ?", [version])["n"].iloc[0])


_READER = textwrap.dedent(
    """
    import sys, duckdb
    path = sys.argv[1]
    con = duckdb.connect(path, read_only=True)  # what an analyst does
    print(con.execute("SELECT count(*) FROM synthetic.rows").fetchone()[0], flush=True)
    sys.stdin.readline()  # the writer publishes meanwhile
    print(con.execute("SELECT count(*) FROM synthetic.rows").fetchone()[0], flush=True)
    con.close()
    con = duckdb.connect(path, read_only=True)
    print(con.execute("SELECT count(*) FROM synthetic.rows").fetchone()[0], flush=True)
    """
)


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    return Warehouse(path=str(tmp_path / "wh" / "dagan_warehouse.duckdb"))


def test_reader_in_another_process_survives_a_materialization(warehouse: Warehouse) -> None:
    replace_partition(warehouse, "rows", _rows("v1", 3), "model_version", "v1", schema="synthetic")

    @dg.asset
    def publish_v2(warehouse: Warehouse) -> dg.MaterializeResult:
        n = replace_partition(
            warehouse,
            "rows", _rows("v2", 5), "model_version", "v2", schema="synthetic"
        )
        return dg.MaterializeResult(value=n)

    reader = subprocess.Popen(
        [sys.executable, "-c", _READER, str(warehouse.file)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "3"  # the reader holds the file open now

        # duckdb 2.0.0 refuses a second process a read-write open while a reader holds the file:
        # this is why the warehouse never writes the published file in place.
        with pytest.raises(duckdb.IOException, match="lock"):
            duckdb.connect(str(warehouse.file))

        result = dg.materialize([publish_v2], resources={"warehouse": warehouse})
        assert result.success

        reader.stdin.write("\n")
        reader.stdin.flush()
        out, err = reader.communicate(timeout=60)
    finally:
        if reader.poll() is None:
            reader.kill()
    assert reader.returncode == 0, err
    old_snapshot, new_connection = out.split()
    assert old_snapshot == "3"  # an open session keeps its snapshot and can still query
    assert new_connection == "8"  # a new session sees the published change
    assert _count(warehouse) == 8


def test_no_temporary_files_or_wal_left_behind(warehouse: Warehouse) -> None:
    replace_partition(warehouse, "rows", _rows("v1", 3), "model_version", "v1", schema="synthetic")
    names = sorted(p.name for p in warehouse.file.parent.iterdir())
    assert names == ["dagan_warehouse.duckdb", "dagan_warehouse.duckdb.d",
                     "dagan_warehouse.duckdb.lock"]
    inside = sorted(p.name for p in (warehouse.file.parent / "dagan_warehouse.duckdb.d").iterdir())
    assert inside == ["dagan_warehouse.g000001.duckdb", "master.duckdb", "published.json"]


def test_replace_partition_is_idempotent_and_keeps_other_versions(warehouse: Warehouse) -> None:
    for _ in range(2):
        replace_partition(
            warehouse,
            "rows", _rows("v1", 4), "model_version", "v1", schema="synthetic"
        )
    assert _count(warehouse, "v1") == 4
    replace_partition(warehouse, "rows", _rows("v2", 2), "model_version", "v2", schema="synthetic")
    replace_partition(warehouse, "rows", _rows("v1", 1), "model_version", "v1", schema="synthetic")
    assert (_count(warehouse, "v1"), _count(warehouse, "v2")) == (1, 2)


def test_replace_partition_refuses_other_columns_naming_them(warehouse: Warehouse) -> None:
    replace_partition(warehouse, "rows", _rows("v1", 2), "model_version", "v1", schema="synthetic")
    before = warehouse.file.read_bytes()
    wider = _rows("v2", 2).assign(extra=1.5).drop(columns="x")
    with pytest.raises(SchemaMismatchError) as refused:
        replace_partition(warehouse, "rows", wider, "model_version", "v2", schema="synthetic")
    assert str(refused.value).startswith(
        "synthetic.rows: the rows of model_version 'v2' do not have the table's columns: "
        "missing ['x'], not in the table ['extra']"
    )
    assert warehouse.file.read_bytes() == before  # never widened with NULL padding
    assert columns(warehouse, "rows", "synthetic") == [
        ("model_version", "VARCHAR"), ("x", "BIGINT"), ("party", "VARCHAR")]


def test_replace_partition_rejects_foreign_keys(warehouse: Warehouse) -> None:
    with pytest.raises(ValueError, match="expected only 'v1'"):
        replace_partition(warehouse, "rows", _rows("v2", 2), "model_version", "v1", "synthetic")


def test_failed_cycle_publishes_nothing(warehouse: Warehouse) -> None:
    replace_partition(warehouse, "rows", _rows("v1", 3), "model_version", "v1", schema="synthetic")
    before = warehouse.file.read_bytes()
    with pytest.raises(RuntimeError, match="boom"), warehouse.write_cycle() as w:
        w.con.execute("DELETE FROM synthetic.rows")
        raise RuntimeError("boom")
    assert warehouse.file.read_bytes() == before
    assert _count(warehouse) == 3
    assert not list(warehouse.file.parent.glob("*.writing-*"))


def test_read_only_connection_is_never_a_stale_cached_snapshot(warehouse: Warehouse) -> None:
    replace_partition(warehouse, "rows", _rows("v1", 3), "model_version", "v1", schema="synthetic")
    held = warehouse.read_only_connection()
    plain = duckdb.connect(str(warehouse.file), read_only=True)
    try:
        replace_partition(
            warehouse,
            "rows", _rows("v2", 2), "model_version", "v2", schema="synthetic"
        )
        # duckdb caches instances by the file a path resolves to, and every publish writes a new
        # file: a plain second connect made while the first is open sees the new data ...
        again = duckdb.connect(str(warehouse.file), read_only=True)
        assert again.execute("SELECT count(*) FROM synthetic.rows").fetchone()[0] == 5
        again.close()
        # ... so do the resource's connections, and an open one keeps its snapshot.
        assert _count(warehouse) == 5
        assert held.execute("SELECT count(*) FROM synthetic.rows").fetchone()[0] == 3
        with pytest.raises(duckdb.Error):
            held.execute("CREATE TABLE main.t AS SELECT 1")
    finally:
        held.close()
        plain.close()


_WRITER = textwrap.dedent(
    """
    import sys
    import pandas as pd
    from pipelines.resources.warehouse import SchemaMismatchError, Warehouse
    from tests.pipelines.warehouse_writes import replace_partition
    wh = Warehouse(path=sys.argv[1])
    for i in range(int(sys.argv[3])):
        key = f"{sys.argv[2]}-{i}"
        replace_partition(wh, "rows", pd.DataFrame({"model_version": [key], "x": [i]}),
                             "model_version", key, schema="synthetic")
    """
)


def test_concurrent_publishers_never_lose_a_change(warehouse: Warehouse) -> None:
    rounds = 4
    seed = pd.DataFrame({"model_version": ["seed"], "x": [0]})  # the writers' columns
    replace_partition(warehouse, "rows", seed, "model_version", "seed", "synthetic")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(warehouse.file), f"proc{k}", str(rounds)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(2)
    ]
    errors: list[BaseException] = []

    def thread_writer(name: str) -> None:
        try:
            for i in range(rounds):
                key = f"{name}-{i}"
                frame = pd.DataFrame({"model_version": [key], "x": [i]})
                replace_partition(warehouse, "rows", frame, "model_version", key, "synthetic")
        except BaseException as err:  # surfaced below
            errors.append(err)

    threads = [threading.Thread(target=thread_writer, args=(f"thread{k}",)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    assert not errors
    keys = set(warehouse.query("SELECT model_version FROM synthetic.rows")["model_version"])
    expected = {"seed"} | {
        f"{who}{k}-{i}" for who in ("proc", "thread") for k in range(2) for i in range(rounds)
    }
    assert keys == expected


def test_comments_and_create_table_as(warehouse: Warehouse) -> None:
    warehouse.publish(
        lambda w: write_table(w, "utility", pd.DataFrame({"a": [1, 2]}), schema="metrics")
    )
    n = create_table_as(
        warehouse,
        "twice", "SELECT a * 2 AS b FROM metrics.utility", schema="marts", comment="doubled"
    )
    comment_on(warehouse, "twice", "the doubled value", schema="marts", column="b")
    assert n == 2
    got = warehouse.query(
        "SELECT comment FROM duckdb_tables() WHERE schema_name = 'marts' AND table_name = 'twice'"
    )
    assert got["comment"].tolist() == ["doubled"]
    cols = warehouse.query("SELECT comment FROM duckdb_columns() WHERE table_name = 'twice'")
    assert cols["comment"].tolist() == ["the doubled value"]
    assert columns(warehouse, "twice", "marts") == [("b", "BIGINT")]


def test_reading_before_anything_was_published_names_the_file(warehouse: Warehouse) -> None:
    with pytest.raises(FileNotFoundError, match="dagan_warehouse.duckdb"):
        warehouse.read_only_connection()
    assert not table_exists(warehouse, "rows", "synthetic")


def test_a_warehouse_from_before_generations_is_adopted(warehouse: Warehouse) -> None:
    warehouse.file.parent.mkdir(parents=True)
    con = duckdb.connect(str(warehouse.file))  # a plain file, as published before generations
    con.execute("CREATE SCHEMA synthetic")
    con.execute("CREATE TABLE synthetic.rows AS SELECT 'v0' AS model_version, 7 AS x, 'p' AS party")
    con.close()
    replace_partition(warehouse, "rows", _rows("v1", 2), "model_version", "v1", schema="synthetic")
    assert warehouse.file.is_symlink()
    assert warehouse.file.resolve().name == "dagan_warehouse.g000001.duckdb"
    assert (_count(warehouse, "v0"), _count(warehouse, "v1")) == (1, 2)
