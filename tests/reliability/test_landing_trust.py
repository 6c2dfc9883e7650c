"""The landing area as a trust boundary, through the real ingest assets (real Dagster, real GX).

- a party's data comes only from regular files inside its own folder: links (to folders, files of
  other parties, the party store, system files), hard links, FIFOs and devices are refused with a
  message naming party and path, and nothing outside the landing area is read;
- a number the contract's integer type cannot hold (beyond int64, a fraction) fails its row, with
  the value quoted; it never wraps around nor changes the column's type;
- NUL bytes are kept and reported, files that are not CSV or Parquet and files landed twice are
  warned about, and quarantined rows name the physical line of their file.

Row accounting stays exact and the landing files are never modified.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import pytest
from ingest_harness import run_ingest
from landing_checks import assert_accounted, assert_refused, csv_bytes, lsnapshot, party_dir

from pipelines.resources.landing import LandingArea
from pipelines.resources.landing.party_stream import scan_party
from tests.pipelines.party_fixtures import adult_slice, needs_adult

pytestmark = needs_adult

ROWS = 12


@pytest.fixture(scope="module")
def instance():
    with dg.DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


# --- 1. links and other entries that are not the party's own regular files ----------------------

def _outside(tmp_path: Path) -> Path:
    """Rows outside the landing area (a held-out test set, say)."""
    secret = tmp_path / "held_out" / "test.csv"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_bytes(csv_bytes(100, 100 + ROWS))
    return secret


def _folder_link(tmp_path, party):
    target = _outside(tmp_path).parent
    link = tmp_path / "landing" / party
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target, target_is_directory=True)
    return link, "is a symbolic link, not a folder"


def _file_link(target_of):
    def make(tmp_path, party):
        link = party_dir(tmp_path, party) / "rows.csv"
        link.symlink_to(target_of(tmp_path))
        return link, "is a symbolic link, not a regular file"
    return make


def _other_partys_file(tmp_path):
    other = party_dir(tmp_path, "neighbour") / "theirs.csv"
    other.write_bytes(csv_bytes(200, 200 + ROWS))
    return other


def _party_store_table(tmp_path):
    table = tmp_path / "parties" / "neighbour" / "validated.parquet"
    table.parent.mkdir(parents=True, exist_ok=True)
    adult_slice(300, 300 + ROWS).to_parquet(table, index=False)
    return table


def _system_file(tmp_path):
    return Path("/etc/passwd")


def _hard_link(tmp_path, party):
    link = party_dir(tmp_path, party) / "rows.csv"
    os.link(_outside(tmp_path), link)
    return link, "has 2 hard links (another name for a file elsewhere)"


LINKS = {
    "party_folder_links_to_held_out_rows": _folder_link,
    "file_links_to_held_out_rows": _file_link(lambda t: _outside(t)),
    "file_links_to_another_partys_landing_file": _file_link(_other_partys_file),
    "file_links_to_another_partys_private_table": _file_link(_party_store_table),
    "file_links_to_a_system_file": _file_link(_system_file),
    "hard_link_to_held_out_rows": _hard_link,
}


@pytest.mark.parametrize("kind", list(LINKS))
def test_a_link_out_of_the_party_folder_is_refused_naming_party_and_path(tmp_path, instance, kind):
    party = "linked"
    path, why = LINKS[kind](tmp_path, party)
    before = lsnapshot(tmp_path)

    run = run_ingest(tmp_path, instance, party)

    assert_refused(run, party, path, why)
    assert lsnapshot(tmp_path) == before


def test_a_file_swapped_for_a_link_after_the_listing_is_refused_when_opened(tmp_path):
    folder = party_dir(tmp_path, "p")
    (folder / "rows.csv").write_bytes(csv_bytes())
    landing = LandingArea(root=str(tmp_path / "landing"))
    listed = landing.party_files("p")
    (folder / "rows.csv").unlink()
    (folder / "rows.csv").symlink_to(_outside(tmp_path))  # between the listing and the read

    with pytest.raises(ValueError, match=r"refused .*rows.csv': it is a symbolic link"):
        scan_party("p", listed)


# --- 2 and 4. numbers the contract's int64 type cannot hold: row failures, value quoted --------

INT64_MAX = 2**63 - 1
#: 0-based data row: (fnlwgt as written, value as quoted, reason or None when the value fits)
HUGE = {
    1: ("1e308", "'1e308'", "does not fit column fnlwgt's type int64"),
    3: ("1.7976931348623157e308", "'1.7976931348623157e308'", "does not fit"),
    4: (str(2**63), f"'{2**63}'", "does not fit"),
    6: (str(2**64), f"'{2**64}'", "does not fit"),
    7: (str(2**70), f"'{2**70}'", "does not fit"),
    8: ("-9223372036854775809", "'-9223372036854775809'", "does not fit"),
    10: (str(INT64_MAX), None, None),  # the largest int64 fits, exactly
}


def test_numbers_beyond_int64_are_quarantined_not_wrapped(tmp_path, instance):
    rows = adult_slice(0, ROWS).astype(object)
    for index, (written, _, _) in HUGE.items():
        rows.loc[index, "fnlwgt"] = written
    party_dir(tmp_path, "huge")
    rows.to_csv(tmp_path / "landing" / "huge" / "rows.csv", index=False)
    before = lsnapshot(tmp_path / "landing")

    run = run_ingest(tmp_path, instance, "huge")

    assert run.result.success and run.check.passed
    assert run.check.severity == dg.AssetCheckSeverity.WARN
    quarantine = run.table("quarantine").set_index("_file_row")
    bad = {i: v for i, v in HUGE.items() if v[2] is not None}
    assert sorted(quarantine.index) == [i + 1 for i in bad]
    for index, (_, quoted, reason) in bad.items():
        hit = quarantine.loc[index + 1]
        assert (hit["_file"], hit["_file_line"], hit["_column"], hit["_value"]) == (
            "rows.csv", index + 2, "fnlwgt", quoted
        )
        assert hit["_reason"].startswith(f"value {quoted} ")
        assert reason in hit["_reason"]
    said = (
        "file 'rows.csv' line 3, column 'fnlwgt', value '1e308': value '1e308' does not fit "
        "column fnlwgt's type int64 (whole numbers from -9223372036854775808 to "
        "9223372036854775807)"
    )
    assert said in run.check.description and said in run.log
    validated = run.table("validated")
    assert validated["fnlwgt"].dtype == "int64"
    assert validated["fnlwgt"].min() >= 1  # nothing wrapped below the contract's minimum
    assert INT64_MAX in set(validated["fnlwgt"])
    assert_accounted(run, ROWS)
    assert lsnapshot(tmp_path / "landing") == before


def test_a_fractional_value_fails_its_row_and_the_column_stays_int64(tmp_path, instance):
    rows = adult_slice(0, ROWS).astype(object)
    rows.loc[5, "age"] = "37.5"
    party_dir(tmp_path, "half")
    rows.to_csv(tmp_path / "landing" / "half" / "rows.csv", index=False)

    run = run_ingest(tmp_path, instance, "half")

    assert run.result.success and run.check.passed
    said = (
        "file 'rows.csv' line 7, column 'age', value 37.5: fractional value 37.5 in "
        "whole-number (int64) column age"
    )
    assert said in run.check.description and said in run.log
    validated = run.table("validated")
    assert validated["age"].dtype == "int64" and len(validated) == ROWS - 1
    assert run.meta("validated_party_table")["dagster/column_schema"].columns[0].type == "int64"
    assert_accounted(run, ROWS)


# --- 6. silent changes and silent drops -----------------------------------------------------------

def test_nul_bytes_are_kept_and_the_row_quarantined_with_the_value_escaped(tmp_path, instance):
    text = csv_bytes().decode().splitlines(keepends=True)
    text[3] = text[3].replace("Private", "Priv\x00ate", 1)
    assert "\x00" in text[3]
    folder = party_dir(tmp_path, "nul")
    (folder / "rows.csv").write_bytes("".join(text).encode())
    before = lsnapshot(tmp_path / "landing")

    run = run_ingest(tmp_path, instance, "nul")

    (hit,) = run.table("quarantine").to_dict("records")
    assert hit["workclass"] == "Priv\x00ate"  # the raw row as received, not truncated
    assert (hit["_file_line"], hit["_column"], hit["_value"]) == (4, "workclass", "'Priv\\x00ate'")
    reason = "value 'Priv\\x00ate' in column workclass holds a NUL byte (\\x00)"
    assert hit["_reason"] == reason
    said = f"file 'rows.csv' line 4, column 'workclass', value 'Priv\\x00ate': {reason}"
    assert said in run.check.description and said in run.log
    assert_accounted(run, ROWS)
    assert lsnapshot(tmp_path / "landing") == before


def test_files_that_are_not_csv_or_parquet_are_named_in_a_warning(tmp_path, instance):
    folder = party_dir(tmp_path, "exports")
    (folder / "rows.csv").write_bytes(csv_bytes())
    (folder / "more.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    (folder / "more.json").write_text('[{"age": 39}]')

    run = run_ingest(tmp_path, instance, "exports")

    said = (
        f"party 'exports': skipped 2 file(s) in '{folder}' that are not CSV or Parquet: "
        "'more.json', 'more.xlsx' (export them as CSV or Parquet to ingest them)"
    )
    assert run.result.success and said in run.log
    assert said in run.meta("raw_party_table")["landing_warnings"]
    assert_accounted(run, ROWS)


def test_a_file_landed_twice_is_named_with_its_twin_in_a_warning(tmp_path, instance):
    folder = party_dir(tmp_path, "twice")
    (folder / "a.csv").write_bytes(csv_bytes())
    (folder / "b.csv").write_bytes(csv_bytes())

    run = run_ingest(tmp_path, instance, "twice")

    said = "party 'twice': file 'b.csv' has the same content as 'a.csv' (sha256 "
    assert run.result.success and said in run.log
    assert said in run.meta("raw_party_table")["landing_warnings"]
    assert "rows count twice" in run.log
    assert_accounted(run, 2 * ROWS)


def test_quarantined_rows_name_the_physical_line_blank_lines_and_line_breaks_included(
    tmp_path, instance
):
    rows = adult_slice(0, ROWS)
    rows.loc[3, "native-country"] = "United-\nStates"  # a quoted line break: 2 lines
    rows.loc[6, "income"] = "maybe"
    lines = rows.to_csv(index=False).splitlines(keepends=True)
    lines.insert(2, "\n")  # a blank line (line 3), skipped by the reader
    lines.insert(5, "\r\n")  # another one (line 6)
    folder = party_dir(tmp_path, "blank")
    (folder / "rows.csv").write_bytes("".join(lines).encode())
    physical = "".join(lines).split("\n")
    line = next(n for n, text in enumerate(physical, start=1) if "maybe" in text)
    assert line == 11  # 10 entries before it, one of which spans two lines

    run = run_ingest(tmp_path, instance, "blank")

    quarantine = run.table("quarantine")
    rows = quarantine.set_index("_column")
    assert rows.loc["income", "_file_line"] == line
    assert rows.loc["income", "_file_row"] == 7  # the 7th data row
    said = f"file 'rows.csv' line {line}, column 'income', value 'maybe'"
    assert said in run.check.description and said in run.log
    assert_accounted(run, ROWS)
