"""Chunked ingest: the contract's verdict, the stored tables and the profile do not depend on how
the table is cut into chunks, and the chunked tables are written atomically."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from party_fixtures import adult_slice, needs_adult

from dagan_core.errors import InvalidDataError
from dagan_core.profiling import profile_party, profile_party_chunks
from pipelines import contracts, settings
from pipelines.chunked_tables import ChunkedTable, TableWriter
from pipelines.contracts import model_columns
from pipelines.defs.ingest.split import split_party_table
from pipelines.resources import PartyStore
from pipelines.resources.landing import SOURCE_FILES
from tests.pipelines.contract_helpers import check_raw_table, validate_frame, validate_table
from tests.pipelines.landing_helpers import infer_column_types

pytestmark = needs_adult


def _bad_rows(n: int = 40) -> pd.DataFrame:
    """Adult rows typed as the landing reader types them, with bad cells on both sides of chunk
    boundaries (chunks of 7)."""
    rows = adult_slice(0, n).astype(object)
    rows.loc[0, "age"] = "abc"
    rows.loc[6, "fnlwgt"] = "inf"
    rows.loc[7, "income"] = ">50K."
    rows.loc[13, "hours-per-week"] = 0
    rows.loc[14, "education-num"] = 3  # breaks the education / education-num pair rule
    rows.loc[15, "education-num"] = 3  # the same broken pair again
    rows.loc[20, "capital-loss"] = None
    rows.loc[21:23, "sex"] = "X"
    rows.loc[n - 1, "workclass"] = "Space-force"
    rows = infer_column_types(rows)
    rows.attrs[SOURCE_FILES] = [["a.csv", 25], ["b.csv", n - 25]]
    return rows


def _failures(result: contracts.ContractResult) -> list[tuple]:
    return [tuple(r) for r in result.row_failures.itertuples(index=False)]


@pytest.mark.parametrize("chunk", [6, 1000])
def test_chunked_verdict_equals_the_whole_table_verdict(chunk):
    rows = _bad_rows()
    whole = validate_frame(rows)

    chunked = validate_table(ChunkedTable.from_frame(rows, chunk), keep_failures=None)

    assert chunked.schema_ok and whole.schema_ok
    assert _failures(chunked) == _failures(whole)
    assert chunked.failed_row_count == len(whole.failed_rows) == 11
    assert chunked.failure_count == len(whole.row_failures)
    assert chunked.failure_counts() == whole.failure_counts()
    assert chunked.statistics == whole.statistics
    assert chunked.rows == whole.rows == len(rows)
    pair = [f for f in _failures(chunked) if f[1] == "expect_column_pair_values_to_be_in_set"]
    assert [f[0] for f in pair] == [14, 15]  # every row of a repeated bad pair, once


def test_chunked_check_keeps_the_first_failures_and_counts_them_all():
    rows = _bad_rows()

    check = check_raw_table("p", ChunkedTable.from_frame(rows, 7))
    whole = check_raw_table("p", rows)

    assert check.description == whole.description
    assert "(and " in check.description  # more failures than are spelled out
    assert check.metadata["rows_failing_row_rules"].value == "11"


def test_a_chunk_holding_only_text_in_a_number_column_is_quarantined_not_a_schema_break():
    rows = adult_slice(0, 21).astype(object)
    rows.loc[14:20, "age"] = "unknown"  # the whole third chunk of 7

    result = validate_table(ChunkedTable.from_frame(rows, 7), keep_failures=None)

    assert result.schema_ok
    assert result.row_failures["_row"].tolist() == list(range(14, 21))
    assert set(result.row_failures["_reason"]) == {
        "non-numeric value 'unknown' in numeric column age"
    }


def test_a_number_column_without_any_number_is_a_schema_break_in_chunks_too():
    rows = adult_slice(0, 21).assign(**{"hours-per-week": "full-time"})

    whole = validate_frame(rows)
    chunked = validate_table(ChunkedTable.from_frame(rows, 7))

    assert not chunked.schema_ok
    assert chunked.schema_failures == whole.schema_failures
    assert (
        "hours-per-week",
        "column should hold a number, found values such as 'full-time'",
    ) in chunked.schema_failures


def test_row_count_rules_see_the_stream_total(tmp_path):
    suite = json.loads(settings.party_contract_path().read_text())
    for rule in suite["expectations"]:
        if rule["type"] == "expect_table_row_count_to_be_between":
            rule["kwargs"]["max_value"] = 10
    path = tmp_path / "small_tables.json"
    path.write_text(json.dumps(suite))

    result = validate_table(ChunkedTable.from_frame(adult_slice(0, 12), 5), path)

    assert not result.schema_ok  # each chunk of 5 would pass; the table of 12 does not
    assert result.schema_failures == [(None, "row count 12 is outside the allowed range")]
    assert result.row_failures.empty


def test_rules_that_compare_rows_are_refused_for_streams(tmp_path):
    suite = json.loads(settings.party_contract_path().read_text())
    suite["expectations"].append(
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "fnlwgt"},
         "meta": {"level": "row"}}
    )
    path = tmp_path / "unique.json"
    path.write_text(json.dumps(suite))

    with pytest.raises(ValueError, match="expect_column_values_to_be_unique.*chunk by chunk"):
        validate_table(ChunkedTable.from_frame(adult_slice(0, 10), 5), path)
    assert validate_frame(adult_slice(0, 10), path).schema_ok  # one whole frame: fine


def _split(tmp_path, rows: pd.DataFrame, chunk: int, party: str = "p"):
    store = PartyStore(root=str(tmp_path / f"store_{chunk}"))
    split = split_party_table(party, ChunkedTable.from_frame(rows, chunk), store)
    return split, store


def test_stored_tables_do_not_depend_on_the_chunk_size(tmp_path):
    rows = _bad_rows()
    one, store_one = _split(tmp_path, rows, 1000)
    many, store_many = _split(tmp_path, rows, 7)

    for table in ("validated", "quarantine"):
        pd.testing.assert_frame_equal(
            getattr(store_many, f"read_{table}")("p"), getattr(store_one, f"read_{table}")("p")
        )
    assert (many.rows_read, many.rows_validated, many.rows_quarantined) == (40, 29, 11)
    assert many.metadata()["quarantine_reasons"] == one.metadata()["quarantine_reasons"]
    assert many.problems() == one.problems()
    quarantine = store_many.read_quarantine("p")
    assert quarantine["_file"].tolist() == ["a.csv"] * 10 + ["b.csv"]
    assert quarantine["_file_row"].tolist() == [1, 7, 8, 14, 15, 16, 21, 22, 23, 24, 15]
    assert str(quarantine["_file_row"].dtype) == "Int64"
    validated = store_many.read_validated("p")
    numeric = [c for c, t in contracts.contract_spec().column_types.items() if t == "int64"]
    assert all(validated[c].dtype == "int64" for c in numeric)
    assert many.validated_dtypes == validated.dtypes.to_dict()


def test_a_fractional_number_in_a_whole_number_column_fails_its_row_not_the_column_type(
    tmp_path,
):
    rows = adult_slice(0, 20).astype(object)
    rows.loc[3, "capital-gain"] = "12.5"  # the contract types it int64: a row failure
    rows.loc[12, "hours-per-week"] = "40.5"
    rows = infer_column_types(rows)
    assert rows["capital-gain"].dtype == "float64"  # as the landing reader types it

    split, store = _split(tmp_path, rows, 7)

    validated, quarantine = store.read_validated("p"), store.read_quarantine("p")
    assert validated["capital-gain"].dtype == "int64"
    assert validated["hours-per-week"].dtype == "int64"
    assert len(validated) == 18 and split.rows_quarantined == 2
    assert quarantine["_reason"].tolist() == [
        "fractional value 12.5 in whole-number (int64) column capital-gain",
        "fractional value 40.5 in whole-number (int64) column hours-per-week",
    ]
    assert quarantine["_value"].tolist() == ["12.5", "40.5"]


def test_a_schema_break_leaves_the_stored_tables_as_they_were(tmp_path):
    good, store = _split(tmp_path, adult_slice(0, 20), 7)
    before = {t: store.table_path("p", t).read_bytes() for t in ("validated", "quarantine")}

    with pytest.raises(InvalidDataError, match="required column is missing") as info:
        split_party_table("p", ChunkedTable.from_frame(adult_slice(0, 20).drop(columns=["sex"]), 7),
                          store)

    assert info.value.column == "sex"
    assert {t: store.table_path("p", t).read_bytes() for t in before} == before
    assert sorted(p.name for p in store.table_path("p", "raw").parent.iterdir()) == [
        "quarantine.parquet", "validated.parquet"
    ]  # no temporary file left behind


def test_profile_from_chunks_equals_profile_of_the_table(tmp_path):
    rows = adult_slice(0, 200)
    rows.loc[5:30, "occupation"] = None
    store = PartyStore(root=str(tmp_path))
    store.write_validated("p", rows)

    columns = model_columns()
    discrete = list(columns.discrete_columns)
    chunks = store.open("p", "validated", chunk_rows=9).chunks()
    chunked = profile_party_chunks(chunks, columns.label, discrete_columns=discrete, party="p")

    assert chunked == profile_party(rows, columns.label, discrete_columns=discrete, party="p")


def test_table_writer_round_trip_keeps_dtypes_attrs_and_text_columns(tmp_path):
    frame = pd.DataFrame(
        {
            "n": np.arange(5, dtype="int64"),
            "x": [0.5, np.nan, 1.5, 2.0, 3.0],
            "s": [None, None, "a", None, "b"],  # no text in the first chunk
            "r": pd.array([1, None, 3, 4, 5], dtype="Int64"),
        }
    )
    path = tmp_path / "t.parquet"
    with TableWriter(path, attrs={"source_files": [["a.csv", 5]]}) as writer:
        for start in range(0, 5, 2):
            writer.write(frame.iloc[start : start + 2])
        assert not path.exists()  # nothing where readers look before the commit
        writer.commit()

    back = pd.read_parquet(path)
    pd.testing.assert_frame_equal(back, frame)
    assert back.attrs == {"source_files": [["a.csv", 5]]}
    table = ChunkedTable.from_parquet(path, chunk_rows=2)
    assert len(table) == 5 and table.attrs == back.attrs
    assert [len(c) for c in table.chunks()] == [2, 2, 1]
    assert list(tmp_path.iterdir()) == [path]


def test_chunk_rows_setting(monkeypatch):
    monkeypatch.delenv("DAGAN_INGEST_CHUNK_ROWS", raising=False)
    assert settings.ingest_chunk_rows() == 50_000
    monkeypatch.setenv("DAGAN_INGEST_CHUNK_ROWS", "100_000")
    assert settings.ingest_chunk_rows() == 100_000
    monkeypatch.setenv("DAGAN_INGEST_CHUNK_ROWS", "0")
    with pytest.raises(ValueError, match="DAGAN_INGEST_CHUNK_ROWS"):
        settings.ingest_chunk_rows()
