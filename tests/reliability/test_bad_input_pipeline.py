"""Bad landing files through the real ingest assets: landing -> raw table -> contract -> validated.

Every kind of bad input has its exact outcome: the message names party, file, column and value
(in the check result and in the run log), valid rows still flow, invalid rows are quarantined with
their reason, rows read = validated + quarantined, and the landing files are never touched.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow.parquet as pq
import pytest
from ingest_harness import WITH_SUMMARY, IngestRun, resources, run_ingest

from pipelines.resources import PartyStore
from pipelines.resources.landing import LandingArea
from tests.pipelines.landing_helpers import infer_column_types, read_party
from tests.pipelines.party_fixtures import ADULT, adult_slice, needs_adult, snapshot, write_party

pytestmark = needs_adult

TABLES = ("raw", "validated", "quarantine")


@pytest.fixture(scope="module")
def instance():
    with dg.DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


def _land(tmp_path, party: str, content: bytes | pd.DataFrame, name: str = "rows.csv"):
    folder = tmp_path / "landing" / party
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(content, pd.DataFrame):
        content.to_csv(folder / name, index=False)
    else:
        (folder / name).write_bytes(content)
    return snapshot(tmp_path / "landing")


# --- files that cannot be read: raw_party_table fails, nothing downstream runs ------------------

def _header_only() -> bytes:
    return (",".join(adult_slice(0, 1).columns) + "\n").encode()


def _latin1() -> bytes:
    rows = adult_slice(0, 5)
    rows.loc[2, "native-country"] = "Österreich"
    return rows.to_csv(index=False).encode("latin-1")


def _semicolons() -> bytes:
    return adult_slice(0, 5).to_csv(index=False, sep=";").encode()


def _duplicate_header() -> bytes:
    text = adult_slice(0, 5).to_csv(index=False)
    return text.replace("native-country", "age", 1).encode()


UNREADABLE = {
    # kind: (file content, exact message, column named, value named)
    "empty_file": (lambda: b"", "file 'rows.csv': is empty (no header line)", None, None),
    "header_only": (
        _header_only,
        "file 'rows.csv': has a header but no data rows",
        None,
        None,
    ),
    "wrong_delimiter": (
        _semicolons,
        "file 'rows.csv': the header was read as a single column; the file seems to use ';' as "
        "its delimiter, but landing CSV files must be comma-separated",
        "age;workclass;fnlwgt",
        None,
    ),
    "unreadable_encoding": (
        _latin1,
        "file 'rows.csv': is not UTF-8 text (line 4 holds the bytes b'\\xd6': invalid "
        "continuation byte)",
        None,
        "b'\\xd6'",
    ),
    "duplicate_column_names": (
        _duplicate_header,
        "file 'rows.csv': column name 'age' appears more than once",
        "age",
        "'age'",
    ),
}


@pytest.mark.parametrize("kind", list(UNREADABLE))
def test_unreadable_file_stops_the_party_with_a_named_error(tmp_path, instance, kind):
    content, message, column, value = UNREADABLE[kind]
    party = f"p_{kind}"
    before = _land(tmp_path, party, content())

    run = run_ingest(tmp_path, instance, party)

    assert not run.result.success
    assert run.materialized == set() and run.check is None
    assert f"InvalidDataError: [party='{party}'" in run.log
    assert message in run.log
    if column is not None:
        assert f"column='{column}" in run.log
    if value is not None:
        assert value in run.log
    # the contract check and validated table never ran; nothing was stored for the party
    assert "Dependencies for step validated_party_table failed" in run.log
    assert not any(run.store.has_table(party, t) for t in TABLES)
    assert snapshot(tmp_path / "landing") == before


# --- files that break the table contract: the blocking check fails ------------------------------

def _without_label():
    return adult_slice(0, 30).drop(columns=["income"])


def _with_extra_column():
    return adult_slice(0, 30).assign(ssn=[f"123-45-{i:04d}" for i in range(30)])


def _text_in_number_column():
    return adult_slice(0, 30).assign(**{"hours-per-week": "full-time"})


SCHEMA_BREAKS = {
    "missing_label_column": (_without_label, "column 'income': required column is missing"),
    "extra_unknown_column": (
        _with_extra_column, "column 'ssn': column is not part of the contract"
    ),
    "text_in_numeric_column": (
        _text_in_number_column,
        "column 'hours-per-week': column should hold a number, found values such as "
        "'full-time'",
    ),
}


@pytest.mark.parametrize("kind", list(SCHEMA_BREAKS))
def test_schema_break_fails_the_blocking_check(tmp_path, instance, kind):
    make, problem = SCHEMA_BREAKS[kind]
    party = f"p_{kind}"
    before = _land(tmp_path, party, make())

    run = run_ingest(tmp_path, instance, party)

    assert not run.result.success
    assert run.materialized == {"raw_party_table"}
    check = run.check
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert check.description.startswith(f"party '{party}' (file 'rows.csv'): table breaks")
    assert problem in check.description
    assert check.description in run.log  # the check logs its verdict
    assert len(run.table("raw")) == 30  # the rows as received, for inspection
    assert run.table("validated") is None and run.table("quarantine") is None
    assert snapshot(tmp_path / "landing") == before


# --- bad cells: quarantined one by one, the other rows flow ---------------------------------------

# kind: (row index in the file, column, cell as written, value as reported, exact reason)
BAD_CELLS = {
    "wrong_type_in_numeric_column": (
        2, "hours-per-week", "40h", "'40h'",
        "non-numeric value '40h' in numeric column hours-per-week",
    ),
    "nan_in_continuous_column": (5, "age", "NaN", "<missing>", "age is missing"),
    "inf_in_continuous_column": (
        7, "fnlwgt", "inf", "inf", "non-finite value inf in numeric column fnlwgt"
    ),
    "label_value_not_in_contract": (
        11, "income", ">50K.", "'>50K.'",
        "income='>50K.' is not an allowed value ('<=50K', '>50K')",
    ),
    "category_outside_contract_set": (
        13, "workclass", "Space-force", "'Space-force'",
        "workclass='Space-force' is not an allowed value ('?', 'Federal-gov', 'Local-gov', "
        "'Never-worked', 'Private', 'Self-emp-inc', 'Self-emp-not-inc', 'State-gov', ...)",
    ),
    "negative_value_where_forbidden": (
        17, "capital-loss", "-3", "-3", "capital-loss=-3 is outside [0, 99999]"
    ),
}
ROWS = 40


@pytest.fixture(scope="module")
def bad_cells(tmp_path_factory, instance):
    tmp_path = tmp_path_factory.mktemp("bad_cells")
    rows = adult_slice(0, ROWS).astype(object)
    for index, column, written, _, _ in BAD_CELLS.values():
        rows.loc[index, column] = written
    before = _land(tmp_path, "mixed", rows)
    run = run_ingest(tmp_path, instance, "mixed")
    return run, before, tmp_path


@pytest.mark.parametrize("kind", list(BAD_CELLS))
def test_bad_cell_is_quarantined_with_file_row_column_value(bad_cells, kind):
    run, _, _ = bad_cells
    index, column, _, value, reason = BAD_CELLS[kind]
    quarantine = run.table("quarantine")

    (hit,) = quarantine[quarantine["_file_row"] == index + 1].to_dict("records")

    assert (hit["_file"], hit["_column"], hit["_value"], hit["_reason"]) == (
        "rows.csv", column, value, reason
    )
    said = f"file 'rows.csv' line {index + 2}, column '{column}', value {value}: {reason}"
    assert said in run.check.description  # the check result names it ...
    assert said in run.log  # ... and so does the run log (check verdict and asset warning)
    original = adult_slice(0, ROWS)
    assert original.loc[index, "fnlwgt"] not in set(run.table("validated")["fnlwgt"])


def test_bad_cells_leave_good_rows_flowing_and_counts_exact(bad_cells):
    run, before, tmp_path = bad_cells
    bad = sorted(index for index, *_ in BAD_CELLS.values())
    good = adult_slice(0, ROWS).drop(index=bad).reset_index(drop=True)

    assert run.result.success
    assert run.check.passed and run.check.severity == dg.AssetCheckSeverity.WARN
    assert run.check.description.startswith(
        f"party 'mixed' (file 'rows.csv'): schema OK; {len(bad)} of {ROWS} rows break"
    )
    meta = run.meta("validated_party_table")
    assert (meta["rows_read"], meta["rows_validated"], meta["rows_quarantined"]) == (
        ROWS, ROWS - len(bad), len(bad)
    )
    validated, quarantine = run.table("validated"), run.table("quarantine")
    assert len(validated) + len(quarantine) == len(run.table("raw")) == ROWS
    pd.testing.assert_frame_equal(validated, good, check_dtype=False)
    numeric = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
    assert all(validated[c].dtype == "int64" for c in numeric)  # inf did not make fnlwgt float
    assert quarantine["_file_row"].tolist() == [i + 1 for i in bad]
    assert f"party mixed: quarantined {len(bad)} of {ROWS} rows" in run.log
    assert snapshot(tmp_path / "landing") == before


# --- odd but valid parties ------------------------------------------------------------------------

def test_party_with_one_row_is_ingested_and_its_summary_names_it(tmp_path, instance):
    before = _land(tmp_path, "solo", adult_slice(0, 1))
    run = run_ingest(tmp_path, instance, "solo", WITH_SUMMARY)

    assert run.check.passed and run.result.success
    assert len(run.table("validated")) == 1 and len(run.table("quarantine")) == 0
    # one row cannot train a critic, and its category counts would be the row itself: the
    # summary shares no count, only that the party is left out of training and why
    reason = "a party needs at least 2 rows to train its critic, got 1"
    assert run.meta("party_summary")["left_out_of_training"] == reason
    assert "summary" not in run.result.output_for_node("party_summary")
    assert f"party solo is left out of training: {reason}" in run.log
    assert "solo" in run.log
    assert snapshot(tmp_path / "landing") == before


def test_party_whose_label_has_one_class_flows_and_is_summarised(tmp_path, instance):
    rows = adult_slice(0, 200)
    rows = rows[rows["income"] == "<=50K"].reset_index(drop=True)
    before = _land(tmp_path, "one_class", rows)

    run = run_ingest(tmp_path, instance, "one_class", WITH_SUMMARY)

    assert run.result.success and run.check.passed
    assert len(run.table("validated")) == len(rows)
    profile = run.result.output_for_node("party_summary")["profile"]
    assert profile["class_counts"] == {"<=50K": len(rows)}
    assert profile["imbalance_ratio"] == 1.0 and profile["label_entropy"] == 0.0
    assert snapshot(tmp_path / "landing") == before


# --- a schema that changes between two landings -------------------------------------------------

def test_schema_change_between_landings_keeps_the_last_good_table(tmp_path, instance):
    party = "drifting"
    _land(tmp_path, party, adult_slice(0, 30))
    first = run_ingest(tmp_path, instance, party)
    assert first.result.success
    good = first.store.table_path(party, "validated").read_bytes()

    renamed = adult_slice(30, 60).rename(columns={"sex": "gender"})
    before = _land(tmp_path, party, renamed)  # the party's next export, same file name
    second = run_ingest(tmp_path, instance, party)

    assert not second.result.success
    assert not second.check.passed
    for said in ("party 'drifting' (file 'rows.csv')", "column 'sex': required column is missing",
                 "column 'gender': column is not part of the contract"):
        assert said in second.check.description and said in second.log
    assert second.materialized == {"raw_party_table"}  # the new rows, as received
    assert list(second.table("raw").columns)[9] == "gender"
    # downstream keeps the last table that met the contract, byte for byte
    assert first.store.table_path(party, "validated").read_bytes() == good
    assert snapshot(tmp_path / "landing") == before


# --- large files: read in chunks; read_party holds the table plus one chunk ----------
# tracemalloc sees every Python and numpy allocation but makes CSV parsing ~20x slower, so the test
# streams Parquet files (the same two-pass reader; CSV adds pandas' fixed-size read buffer). The
# ingest assets never hold the table: test_100mb_file_... below runs a ~100 MB CSV through them.

CHUNK = 250


def _extra_memory(tmp_path, rows: int) -> tuple[int, int]:
    """(bytes the table holds, peak bytes beyond it while reading) for a ``rows``-row file."""
    source = adult_slice(0, 2000)
    big = source.sample(rows, replace=True, random_state=rows).reset_index(drop=True)
    folder = tmp_path / str(rows) / "big"
    folder.mkdir(parents=True)
    big.to_parquet(folder / "big.parquet", index=False, row_group_size=CHUNK)
    area = LandingArea(root=str(folder.parent))
    tracemalloc.start()
    try:
        table, counts = read_party(area, "big")
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert counts[0].rows == rows and len(table) == rows
    return held, peak - held


def test_large_file_is_streamed_with_bounded_memory(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGAN_INGEST_CHUNK_ROWS", str(CHUNK))
    small_table, small_extra = _extra_memory(tmp_path, 2000)
    large_table, large_extra = _extra_memory(tmp_path, 8000)

    assert large_table > 3 * small_table  # the table itself grows with the file ...
    # ... but what reading needs beyond it does not: about one chunk, never a copy of the file
    assert large_extra < 1.2 * small_extra
    assert large_extra < 0.1 * large_table


def test_streamed_types_do_not_depend_on_chunk_boundaries(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGAN_INGEST_CHUNK_ROWS", "7")
    rows = adult_slice(0, 30).astype(object)
    rows.loc[29, "age"] = "unknown"  # only the last chunk holds text in a number column
    rows.loc[3, "capital-gain"] = None  # a gap: that column becomes float, as pandas would
    write_party(tmp_path, "p", rows, "a.csv")
    write_party(tmp_path, "p", adult_slice(30, 40), "b.parquet")

    table, counts = read_party(LandingArea(root=str(tmp_path)), "p")

    whole = pd.concat(
        [pd.read_csv(tmp_path / "p" / "a.csv", dtype=str),
         pd.read_parquet(tmp_path / "p" / "b.parquet")],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(table, infer_column_types(whole))
    # text, as written, in both files (the Parquet file's numbers too)
    assert table["age"].iloc[0] == "39" and table["age"].iloc[35] == str(adult_slice(35, 36).age[0])
    assert table["capital-gain"].dtype == "float64"
    assert table.attrs["source_files"] == [["a.csv", 30], ["b.parquet", 10]]


def test_quarantined_rows_of_a_second_file_name_that_file(tmp_path, instance):
    later = adult_slice(20, 30)
    later.loc[4, "age"] = 200
    _land(tmp_path, "two_files", adult_slice(0, 20), "a.csv")
    _land(tmp_path, "two_files", later, "b.csv")

    run: IngestRun = run_ingest(tmp_path, instance, "two_files")

    (hit,) = run.table("quarantine").to_dict("records")
    assert (hit["_file"], hit["_file_row"], hit["_reason"]) == (
        "b.csv", 5, "age=200 is outside [17, 90]"
    )
    assert "party 'two_files' (files 'a.csv', 'b.csv')" in run.check.description
    assert resources(tmp_path)["party_store"].read_validated("two_files").shape[0] == 29


# --- a ~100 MB CSV through the real assets, in a child process whose peak RSS is measured --------
# The assets stream: landing file -> raw table -> contract check -> validated / quarantine tables
# -> profile, one chunk (DAGAN_INGEST_CHUNK_ROWS, default 50 000 rows) at a time. A ~10 MB file
# (~98 000 rows, two chunks) and a ~100 MB file (~944 000 rows, 19 chunks) go through the same
# assets in fresh processes; the larger one may need at most GROWTH_MB more at its peak. Holding
# the larger party's table would cost far more: its validated rows alone take over 500 MB as a
# pandas frame (the test measures it), the raw text and GX's copies of it several times that; the
# pipeline before chunking peaked at 667 MB RSS for a 26 MB file. What does grow a little with
# the number of chunks is the allocator's high-water mark (measured: +25 to +55 MB).

REPO = Path(__file__).resolve().parents[2]
GROWTH_MB = 100
#: (column, cell as written, value as reported, reason) of the invalid rows, in position order
BIG_FILE_BAD = [
    ("age", "abc", "'abc'", "non-numeric value 'abc' in numeric column age"),
    ("hours-per-week", "0", "0", "hours-per-week=0 is outside [1, 99]"),
    ("income", ">50K.", "'>50K.'", "income='>50K.' is not an allowed value ('<=50K', '>50K')"),
    ("fnlwgt", "inf", "inf", "non-finite value inf in numeric column fnlwgt"),
    ("age", "", "<missing>", "age is missing"),
    ("workclass", "Space-force", "'Space-force'", "workclass='Space-force' is not an allowed"),
]


def _write_big_csv(path: Path, megabytes: float) -> tuple[int, dict[int, tuple]]:
    """Adult's rows over and over until ``megabytes``, with BIG_FILE_BAD at known positions:
    the first row, both sides of the first chunk boundary, the middle and the last two rows.
    Returns the number of data rows and ``{0-based row: bad cell}``."""
    header, *lines = ADULT.read_bytes().splitlines(keepends=True)
    columns = header.decode().rstrip("\n").split(",")
    body = b"".join(lines)
    blocks = math.ceil((megabytes * 1e6 - len(header)) / len(body))
    total = blocks * len(lines)
    positions = [0, 49_999, 50_000, total // 2, total - 2, total - 1]
    bad = dict(zip(positions, BIG_FILE_BAD, strict=True))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        out.write(header)
        for block in range(blocks):
            first = block * len(lines)
            hits = {p - first: b for p, b in bad.items() if first <= p < first + len(lines)}
            if not hits:
                out.write(body)
                continue
            rows = list(lines)
            for index, (column, written, _, _) in hits.items():
                fields = rows[index].decode().rstrip("\n").split(",")
                fields[columns.index(column)] = written
                rows[index] = (",".join(fields) + "\n").encode()
            out.write(b"".join(rows))
    return total, bad


def _ingest_in_child(work: Path, party: str) -> tuple[dict, float]:
    """Run tests/reliability/ingest_child.py; returns its report and its peak RSS in MiB.

    The child measures its peak itself (``VmHWM``): the ``ru_maxrss`` that ``wait4`` or
    ``RUSAGE_CHILDREN`` report starts from the size of this test process, which the child is a
    fork of before it runs Python afresh.
    """
    env = {k: v for k, v in os.environ.items() if k != "DAGAN_INGEST_CHUNK_ROWS"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    child = subprocess.run(
        [sys.executable, "-m", "tests.reliability.ingest_child", str(work), party],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )
    assert child.returncode == 0, (child.stdout + child.stderr)[-3000:]
    report = json.loads(child.stdout.strip().splitlines()[-1])
    return report, report["peak_rss_mb"]


def _big_file_run(tmp_path: Path, megabytes: float) -> dict:
    work = tmp_path / f"{megabytes:g}mb"
    path = work / "landing" / "big" / "big.csv"
    total, bad = _write_big_csv(path, megabytes)
    digest, mtime = hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns

    report, peak_mb = _ingest_in_child(work, "big")

    store = PartyStore(root=str(work / "parties"))
    assert report["success"] and report["check_passed"]
    # exact accounting: every row read is either validated or quarantined, once
    assert report["rows_read"] == total
    assert report["rows_quarantined"] == len(bad)
    assert report["rows_validated"] == total - len(bad) == report["profile_rows"]
    assert pq.ParquetFile(store.table_path("big", "raw")).metadata.num_rows == total
    validated = pq.ParquetFile(store.table_path("big", "validated"))
    assert validated.metadata.num_rows == total - len(bad)
    # every invalid row, and only those, in quarantine with file, row, column, value and reason
    quarantine = store.read_quarantine("big")
    assert quarantine["_file"].tolist() == ["big.csv"] * len(bad)
    assert quarantine["_file_row"].tolist() == [p + 1 for p in sorted(bad)]
    for (_, row), position in zip(quarantine.iterrows(), sorted(bad), strict=True):
        column, _, value, reason = bad[position]
        assert (row["_column"], row["_value"]) == (column, value)
        assert row["_reason"].startswith(reason)
    # the landing file is byte for byte what was written, and alone in its folder
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert path.stat().st_mtime_ns == mtime
    assert [p.name for p in path.parent.iterdir()] == ["big.csv"]
    first = validated.read_row_group(0).to_pandas()
    table_mb = first.memory_usage(deep=True).sum() / len(first) * validated.metadata.num_rows
    return {"rows": total, "peak_mb": peak_mb, "table_mb": table_mb / 2**20,
            "wall_s": report["wall_s"]}


@pytest.mark.slow
def test_100mb_file_streams_with_bounded_memory_and_exact_accounting(tmp_path):
    small = _big_file_run(tmp_path, 10)
    large = _big_file_run(tmp_path, 100)

    assert large["rows"] > 9 * small["rows"]
    assert large["table_mb"] > 5 * GROWTH_MB  # what holding the validated table would cost ...
    # ... while the peak of the whole run hardly moves with ten times the rows
    assert large["peak_mb"] - small["peak_mb"] < GROWTH_MB, (small, large)
