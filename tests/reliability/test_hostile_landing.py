"""Hostile and odd landing folders through the real ingest assets: what each one gets.

Every case ends one of four ways, each with a message naming the party and the file:

- ``refused``: the entry is not a regular file of the party's own folder; nothing is read;
- ``unreadable``: the file cannot be read as a table; nothing is stored for the party;
- ``schema``: the table breaks the contract; the blocking check fails;
- ``ingested``: rows flow, bad rows are quarantined, rows read = validated + quarantined.

The landing folder is the same, entry for entry (``lstat``), before and after.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from ingest_harness import ingest_in_child, other_user, resources, run_ingest
from landing_checks import assert_accounted, assert_refused, csv_bytes, lsnapshot, party_dir

from pipelines.defs.ingest import party_sensor
from pipelines.resources.landing import LandingArea
from tests.pipelines.party_fixtures import adult_slice, needs_adult

pytestmark = needs_adult

ROWS = 12
SYMLINK = "is a symbolic link, not a regular file"
TABLES = ("raw", "validated", "quarantine")


@pytest.fixture(scope="module")
def instance():
    with dg.DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


def _write(name: str, content: bytes):
    def make(folder: Path) -> Path:
        (folder / name).write_bytes(content)
        return folder / name
    return make


def _link(target):
    def make(folder: Path) -> Path:
        (folder / "rows.csv").symlink_to(target(folder) if callable(target) else target)
        return folder / "rows.csv"
    return make


def _outside_folder(folder: Path) -> Path:
    target = folder.parents[1] / "elsewhere"
    target.mkdir(exist_ok=True)
    (target / "rows.csv").write_bytes(csv_bytes())
    return target


def _fifo(folder: Path) -> Path:
    os.mkfifo(folder / "rows.csv")
    return folder / "rows.csv"


def _folder_named_csv(folder: Path) -> Path:
    (folder / "rows.csv").mkdir()
    (folder / "rows.csv" / "inner.csv").write_bytes(csv_bytes())
    return folder / "rows.csv"


def _rows(edit) -> bytes:
    rows = adult_slice(0, ROWS).astype(object)
    edit(rows)
    return rows.to_csv(index=False).encode()


def _lines(edit) -> bytes:
    lines = csv_bytes().decode().splitlines(keepends=True)
    edit(lines)
    return "".join(lines).encode()


def _wide(folder: Path) -> Path:
    rows = adult_slice(0, 2)
    extra = pd.DataFrame({f"x{i}": [1, 1] for i in range(WIDTH - rows.shape[1])})
    pd.concat([rows, extra], axis=1).to_csv(folder / "rows.csv", index=False)
    return folder / "rows.csv"


def _set(rows, index, column, value):
    rows.loc[index, column] = value


def _unknown_categories(rows):
    rows.loc[: ROWS - 3, "workclass"] = [f"W{i:04d}" for i in range(ROWS - 2)]


def _mixed_endings(lines):
    ends = ["\r\n", "\n", "\r"]
    lines[:] = [line.rstrip("\n") + ends[i % 3] for i, line in enumerate(lines)]
    lines[8] = lines[8].replace("<=50K", "maybe").replace(">50K", "maybe")


def _whitespace_line(lines):
    lines.insert(3, "   \t \n")
    lines[8] = lines[8].replace("<=50K", "maybe").replace(">50K", "maybe")


def _ragged(lines):
    lines[4] = lines[4].rstrip("\n") + ",extra\n"


def _hidden_only(folder: Path) -> Path:
    return _write(".part.csv", csv_bytes())(folder)


def _subfolder(folder: Path) -> Path:
    (folder / "archive").mkdir()
    (folder / "archive" / "old.csv").write_bytes(csv_bytes(50, 60))
    return _write("rows.csv", csv_bytes())(folder)


def _parquet_named_csv(folder: Path) -> Path:
    adult_slice(0, ROWS).to_parquet(folder / "rows.csv")
    return folder / "rows.csv"


LONG = "A" * 1_000_000
#: columns of the wide file (10 000 behave alike: ~50 s of ingest on 2 shared cores, mostly the
#: per-column type scan; 500 keep the test quick)
WIDTH = 500
#: case: (make the party folder's content -> the path it is about, outcome, what it says)
CASES = {
    "link_to_a_folder": (_link(_outside_folder), "refused", SYMLINK),
    "dangling_link": (_link("/nonexistent/rows.csv"), "refused", SYMLINK),
    "fifo": (_fifo, "refused", "is a FIFO (named pipe), not a regular file"),
    "device_through_a_link": (_link("/dev/zero"), "refused", SYMLINK),
    "folder_named_like_a_csv": (_folder_named_csv, "refused", "is a folder, not a regular file"),
    "five_hundred_columns": (
        _wide, "schema", "column 'x0': column is not part of the contract; column 'x1': "
    ),
    "many_unknown_categories": (
        _write("rows.csv", _rows(_unknown_categories)), ("ingested", ROWS - 2),
        "file 'rows.csv' line 11, column 'workclass', value 'W0009': workclass='W0009' is not",
    ),
    "bom_only": (_write("rows.csv", b"\xef\xbb\xbf"), "unreadable",
                 "file 'rows.csv': is empty (no header line)"),
    "bom": (_write("rows.csv", b"\xef\xbb\xbf" + csv_bytes()), ("ingested", 0),
            "party 'hostile': all 12 rows meet contract"),
    "mixed_line_endings": (
        _write("rows.csv", _lines(_mixed_endings)), ("ingested", 1),
        "file 'rows.csv' line 9, column 'income', value 'maybe'",
    ),
    "whitespace_only_line": (
        _write("rows.csv", _lines(_whitespace_line)), ("ingested", 1),
        "file 'rows.csv' line 9, column 'income', value 'maybe'",
    ),
    "one_megabyte_cell": (
        _write("rows.csv", _rows(lambda r: _set(r, 4, "workclass", LONG))), ("ingested", 1),
        f"file 'rows.csv' line 6, column 'workclass', value '{'A' * 196}...: workclass=",
    ),
    "number_beyond_float64": (
        _write("rows.csv", _rows(lambda r: _set(r, 2, "fnlwgt", "1e999"))), ("ingested", 1),
        "line 4, column 'fnlwgt', value '1e999': non-finite value '1e999' in numeric column",
    ),
    "utf16": (_write("rows.csv", csv_bytes().decode().encode("utf-16")), "unreadable",
              "file 'rows.csv': is not UTF-8 text (line 1 holds the bytes b'\\xff'"),
    "parquet_named_csv": (_parquet_named_csv, "unreadable", "file 'rows.csv': is not UTF-8"),
    "ragged_row": (_write("rows.csv", _lines(_ragged)), "unreadable",
                   "file 'rows.csv': cannot be parsed as CSV: Error tokenizing data. C error: "
                   "Expected 15 fields in line 5, saw 16"),
    "only_a_hidden_file": (_hidden_only, "unreadable",
                           "(hidden, so ignored until renamed: '.part.csv')"),
    "sub_folder": (_subfolder, ("ingested", 0),
                   "that are not CSV or Parquet: 'archive/' (export them as CSV or Parquet"),
    "upper_case_suffix": (_write("ROWS.CSV", csv_bytes()), ("ingested", 0),
                          "party hostile: read 12 rows from 1 file(s)"),
}


@pytest.mark.parametrize("case", CASES)
def test_hostile_landing_folder(tmp_path, instance, case):
    make, outcome, said = CASES[case]
    party = "hostile"
    path = make(party_dir(tmp_path, party))
    before = lsnapshot(tmp_path / "landing")

    run = run_ingest(tmp_path, instance, party)

    if outcome == "refused":
        assert_refused(run, party, path, said)
    elif outcome == "unreadable":
        assert not run.result.success and run.materialized == set()
        assert f"[party='{party}']" in run.log and said in run.log, run.log[-3000:]
        assert not run.store.has_table(party, "raw")
    elif outcome == "schema":
        assert not run.result.success and not run.check.passed
        assert run.check.description.startswith(f"party '{party}' (file 'rows.csv'): table")
        assert said in run.check.description and said in run.log
        assert "(and 465 more)" in run.check.description  # 20 of 485 columns spelled out
        assert len(run.check.description) < 5000
    else:
        _, quarantined = outcome
        assert run.result.success and run.check.passed, run.log[-3000:]
        assert said in run.log
        assert_accounted(run, ROWS)
        assert run.meta("validated_party_table")["rows_quarantined"] == quarantined
    assert lsnapshot(tmp_path / "landing") == before


def test_a_file_the_pipeline_may_not_read_stops_the_party_and_stores_nothing_of_it():
    """A landing file of mode 000. The ingest runs in a child process as a user the mode stops
    (as root, which reads any file, that is ``nobody``): a first run ingests a readable file, a
    second one meets the unreadable file as well and stops, leaving the store as it was."""
    prefix, owner = other_user()
    work = Path(tempfile.mkdtemp(prefix="dagan-unreadable-"))
    try:
        work.chmod(0o755)  # the child's user crosses it to the landing folder
        folder = party_dir(work, "hostile")
        (folder / "a.csv").write_bytes(csv_bytes())
        for name in ("parties", "io"):  # what the child writes
            (work / name).mkdir()
            if owner is not None:
                os.chown(work / name, *owner)
        first = ingest_in_child(work, "hostile", prefix)
        assert first["success"], first["log"][-3000:]
        store = resources(work)["party_store"]
        tables = {t: getattr(store, f"read_{t}")("hostile") for t in TABLES}
        assert len(tables["raw"]) == ROWS == len(tables["validated"]) + len(tables["quarantine"])
        (folder / "rows.csv").write_bytes(csv_bytes(ROWS, 2 * ROWS))
        (folder / "rows.csv").chmod(0)
        landing, stored = lsnapshot(work / "landing"), lsnapshot(work / "parties")

        second = ingest_in_child(work, "hostile", prefix)

        assert not second["success"] and second["materialized"] == []
        said = "[party='hostile'] file 'rows.csv': cannot be opened (Permission denied)"
        assert said in second["log"], second["log"][-3000:]
        assert lsnapshot(work / "parties") == stored  # no byte of either file stored
        for name, table in tables.items():
            pd.testing.assert_frame_equal(getattr(store, f"read_{name}")("hostile"), table)
        assert lsnapshot(work / "landing") == landing
        assert (folder / "rows.csv").stat().st_mode & 0o777 == 0
    finally:
        shutil.rmtree(work)


def test_a_file_that_turns_into_a_fifo_between_ticks_gets_a_run_that_refuses_it(
    tmp_path, instance
):
    folder = party_dir(tmp_path, "shifty")
    (folder / "rows.csv").write_bytes(csv_bytes())
    res = resources(tmp_path)
    first = party_sensor(dg.build_sensor_context(instance=instance, resources=res))
    assert [r.partition_key for r in first.run_requests] == ["shifty"]
    instance.add_dynamic_partitions("parties", ["shifty"])
    assert run_ingest(tmp_path, instance, "shifty").result.success

    (folder / "rows.csv").unlink()
    os.mkfifo(folder / "rows.csv")  # same name, now a pipe that would block a reader
    second = party_sensor(
        dg.build_sensor_context(instance=instance, cursor=first.cursor, resources=res)
    )

    assert [r.partition_key for r in second.run_requests] == ["shifty"]
    run = run_ingest(tmp_path, instance, "shifty")
    assert_refused_keeping_the_last_table(run, folder / "rows.csv")


def assert_refused_keeping_the_last_table(run, path: Path) -> None:
    assert not run.result.success and run.materialized == set()
    said = f"[party='shifty'] refused '{path}': it is a FIFO (named pipe), not a regular file"
    assert said in run.log
    assert len(run.table("validated")) == ROWS  # the last good table stays


def test_a_file_that_grows_between_the_scan_and_the_read_is_refused(tmp_path):
    folder = party_dir(tmp_path, "growing")
    (folder / "rows.csv").write_bytes(csv_bytes())
    stream = LandingArea(root=str(tmp_path / "landing")).stream_party("growing")
    with (folder / "rows.csv").open("ab") as more:  # the producer is still writing
        more.write(csv_bytes(20, 25).split(b"\n", 1)[1])

    with pytest.raises(ValueError) as raised:
        list(stream.chunks())

    assert str(raised.value) == (
        "[party='growing'] file 'rows.csv': changed while it was being read (12 rows, then 17); "
        "read it again once it is complete"
    )
