"""The work behind the ingest assets and checks, kept out of the Dagster decorators."""

from __future__ import annotations

import logging
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd
import pyarrow as pa

from dagan_core.errors import InvalidDataError
from pipelines import gx_runner
from pipelines.chunked_tables import ChunkedTable
from pipelines.contract_meta import shared_table_schema
from pipelines.metadata import json_value, md_table
from pipelines.resources.landing import SOURCE_FILES, FileRows
from pipelines.resources.party_store import QUARANTINE, VALIDATED, PartyStore

logger = logging.getLogger(__name__)

CHECK_NAME = "party_table_contract"
#: Quarantine columns added to the contract's reasons: the landing file a row came from and its
#: data row number in that file (1 = the first row after the header).
SOURCE_COLUMNS = ("_file", "_file_row")
#: How many failing rows a check description or log line spells out.
SHOWN_FAILURES = 10


class RowAccountingError(RuntimeError):
    """Rows were lost or duplicated between the raw table and its validated/quarantined parts."""


def table_schema(df: pd.DataFrame | Mapping[str, Any]) -> dg.TableSchema:
    """A frame's (or ``{column: dtype}``'s) columns and dtypes, described as the contract does."""
    dtypes = df.dtypes.to_dict() if isinstance(df, pd.DataFrame) else df
    return shared_table_schema({str(name): str(dtype) for name, dtype in dtypes.items()})


def raw_table_metadata(
    party: str,
    rows: int,
    dtypes: Mapping[str, Any],
    files: list[FileRows],
    landing_dir: Path,
    stored: Path,
) -> dict[str, Any]:
    """Materialization metadata of a party's raw table."""
    return {
        "party": party,
        "dagster/row_count": rows,
        "dagster/column_schema": table_schema(dtypes),
        "columns": len(dtypes),
        "files": len(files),
        "rows_per_file": md_table(pd.DataFrame(files, columns=["file", "rows"])),
        "landing_dir": dg.MetadataValue.path(str(landing_dir)),
        "stored_at": dg.MetadataValue.path(str(stored)),
    }


def _failures_table(failures: list[tuple[str | None, str]]) -> dg.MetadataValue:
    frame = pd.DataFrame(
        [(c if c is not None else "(table)", m) for c, m in failures], columns=["column", "problem"]
    )
    return md_table(frame)


def as_chunked(raw: pd.DataFrame | ChunkedTable) -> ChunkedTable:
    """A raw table to be read chunk by chunk (a frame is handed out in slices)."""
    return raw if isinstance(raw, ChunkedTable) else ChunkedTable.from_frame(raw)


def source_files(raw: pd.DataFrame | ChunkedTable) -> list[str]:
    """Names of the landing files the raw table was read from (empty if unknown)."""
    return [str(name) for name, _ in raw.attrs.get(SOURCE_FILES) or []]


def locate_rows(
    raw: pd.DataFrame | ChunkedTable, rows: list[int]
) -> list[tuple[str | None, int | None]]:
    """``(file, data row in that file)`` of each row position of the raw table.

    Uses the per-file row counts the landing reader stored with the table; ``(None, None)`` when
    they are missing or do not add up to the table's length.
    """
    files = raw.attrs.get(SOURCE_FILES) or []
    counts = [int(n) for _, n in files]
    if not files or sum(counts) != len(raw):
        return [(None, None)] * len(rows)
    ends = np.cumsum(counts)
    out: list[tuple[str | None, int | None]] = []
    for row in rows:
        index = int(np.searchsorted(ends, row, side="right"))
        start = int(ends[index - 1]) if index else 0
        out.append((str(files[index][0]), int(row) - start + 1))
    return out


def _where(file: str | None, row: int | None) -> str:
    return f"file {file!r} row {row}" if file is not None else f"table row {row}"


def describe_row_failures(
    raw: pd.DataFrame | ChunkedTable,
    row_failures: pd.DataFrame,
    limit: int = SHOWN_FAILURES,
    total: int | None = None,
) -> str:
    """``file 'a.csv' row 4, column 'age', value -5: age=-5 is outside [17, 90]; ...``.

    ``total``: how many failures there are in all, when ``row_failures`` holds only the first.
    """
    if row_failures.empty:
        return ""
    shown = row_failures.head(limit)
    places = locate_rows(raw, [int(r) for r in shown["_row"]])
    parts = []
    for (file, number), (_, failure) in zip(places, shown.iterrows(), strict=True):
        row = number if file is not None else int(failure["_row"])
        parts.append(
            f"{_where(file, row)}, column {failure['_column']!r}, value {failure['_value']}: "
            f"{failure['_reason']}"
        )
    more = (len(row_failures) if total is None else total) - len(shown)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def _files_phrase(raw: pd.DataFrame | ChunkedTable) -> str:
    files = source_files(raw)
    if not files:
        return ""
    shown = ", ".join(map(repr, files[:SHOWN_FAILURES]))
    more = len(files) - SHOWN_FAILURES
    plural = "s" if len(files) > 1 else ""
    return f" (file{plural} {shown}{f' and {more} more' if more > 0 else ''})"


def scan_numbers(
    table: ChunkedTable, suite_path: str | os.PathLike[str] | None = None
) -> gx_runner.NumericScan:
    """First pass over the numeric columns that need it (none when they are all integers)."""
    spec = gx_runner.contract_spec(suite_path)
    columns = gx_runner.columns_to_scan(table.dtypes, spec)
    return gx_runner.scan_numbers(table.chunks(columns) if columns else [], spec, columns)


def validate_table(
    raw: pd.DataFrame | ChunkedTable,
    suite_path: str | os.PathLike[str] | None = None,
    keep_failures: int | None = SHOWN_FAILURES,
) -> gx_runner.ContractResult:
    """Validate a raw table chunk by chunk; memory holds one chunk and the first failures."""
    table = as_chunked(raw)
    return gx_runner.validate_chunks(
        table.chunks(),
        suite_path,
        numbers=scan_numbers(table, suite_path),
        keep_failures=keep_failures,
    )


def contract_check_result(
    party: str,
    raw: pd.DataFrame | ChunkedTable,
    suite_path: str | os.PathLike[str] | None = None,
) -> dg.AssetCheckResult:
    """The verdict of the party table contract on a party's raw table (validated in chunks).

    Schema-level failures fail the check (severity ERROR, which blocks the party's downstream
    assets). Row-level failures alone pass it with severity WARN: those rows are quarantined by
    ``validated_party_table``.
    """
    result = validate_table(raw, suite_path)
    common = {
        "party": party,
        "contract": result.suite_name,
        "rows": result.rows,
        "rows_failing_row_rules": result.failed_row_count,
        "gx_statistics": json_value(result.statistics),
    }
    if not result.schema_ok:
        columns = sorted({c for c, _ in result.schema_failures if c is not None})
        problems = "; ".join(
            f"column {c!r}: {m}" if c is not None else m for c, m in result.schema_failures
        )
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            description=(
                f"party {party!r}{_files_phrase(raw)}: table breaks contract "
                f"{result.suite_name!r} (columns {', '.join(map(repr, columns)) or '-'}): "
                f"{problems}"
            ),
            metadata={
                **common,
                "failing_columns": json_value(columns),
                "schema_failures": _failures_table(result.schema_failures),
            },
        )
    counts = result.failure_counts()
    failing = result.failed_row_count
    if failing:
        description = (
            f"party {party!r}{_files_phrase(raw)}: schema OK; {failing} of {result.rows} rows "
            f"break row-level rules and will be quarantined: "
            f"{describe_row_failures(raw, result.row_failures, total=result.failure_count)}"
        )
    else:
        description = f"party {party!r}: all {result.rows} rows meet contract {result.suite_name!r}"
    return dg.AssetCheckResult(
        passed=True,
        severity=dg.AssetCheckSeverity.WARN if failing else dg.AssetCheckSeverity.ERROR,
        description=description,
        metadata={**common, "row_rule_failures": json_value(counts)},
    )


@dataclass(frozen=True)
class PartySplit:
    """How a party's raw table was split into validated and quarantined rows (both stored).

    Holds counts, the validated table's dtypes and the first quarantined rows, never the tables.
    """

    party: str
    rows_read: int
    rows_validated: int
    rows_quarantined: int
    validated_dtypes: dict[str, Any]
    quarantine_sample: pd.DataFrame
    result: gx_runner.ContractResult

    def problems(self, limit: int = SHOWN_FAILURES) -> str:
        """The first quarantined rows spelled out: file, row, column, value and reason."""
        if self.quarantine_sample.empty:
            return ""
        shown = self.quarantine_sample.head(limit)
        parts = [
            f"{_where(f if isinstance(f, str) else None, r)}, column {c!r}, value {v}: {why}"
            for f, r, c, v, why in zip(
                shown["_file"], shown["_file_row"], shown["_column"], shown["_value"],
                shown["_reason"], strict=True,
            )
        ]
        more = self.rows_quarantined - len(shown)
        return "; ".join(parts) + (f" (and {more} more rows)" if more > 0 else "")

    def metadata(self) -> dict[str, Any]:
        reasons = pd.DataFrame(
            [
                (rule["column"] or "", rule["type"], rule["unexpected_count"])
                for rule in self.result.rules
                if rule["level"] == gx_runner.ROW and rule["unexpected_count"]
            ],
            columns=["_column", "_rule", "rows"],
        )
        reasons = reasons.sort_values(["_column", "_rule"]).sort_values(
            "rows", ascending=False, kind="stable"
        )
        return {
            "party": self.party,
            "rows_read": self.rows_read,
            "rows_validated": self.rows_validated,
            "rows_quarantined": self.rows_quarantined,
            "dagster/row_count": self.rows_validated,
            "dagster/column_schema": table_schema(self.validated_dtypes),
            "quarantine_reasons": md_table(reasons),
            "quarantine_sample": md_table(
                self.quarantine_sample[[*SOURCE_COLUMNS, *gx_runner.QUARANTINE_COLUMNS]],
                max_rows=10,
            ),
        }


def _validated_types(
    column_types: Mapping[str, str], as_float: Collection[str]
) -> dict[str, pa.DataType]:
    types = {}
    for name, kind in column_types.items():
        if kind == "int64" and name not in as_float:
            types[name] = pa.int64()
        elif kind in gx_runner.NUMERIC_TYPES:
            types[name] = pa.float64()
        else:
            types[name] = pa.string()
    return types


def _empty_validated(types: Mapping[str, pa.DataType]) -> pd.DataFrame:
    dtypes = {pa.int64(): "int64", pa.float64(): "float64"}
    return pd.DataFrame(
        {name: pd.Series(dtype=dtypes.get(kind, object)) for name, kind in types.items()}
    )


def _quarantine_chunk(
    table: ChunkedTable, outcome: gx_runner.ChunkOutcome
) -> pd.DataFrame:
    quarantine = outcome.quarantine_frame()
    quarantine.attrs.clear()  # the file list describes the raw table, not this part of it
    places = locate_rows(table, outcome.failed_rows)
    quarantine["_file"] = pd.Series([f for f, _ in places], index=quarantine.index, dtype=object)
    quarantine["_file_row"] = pd.Series(
        [r for _, r in places], index=quarantine.index, dtype="Int64"
    )
    return quarantine


def split_party_table(
    party: str,
    raw: pd.DataFrame | ChunkedTable,
    party_store: PartyStore,
    suite_path: str | os.PathLike[str] | None = None,
) -> PartySplit:
    """Validate a party's raw table chunk by chunk and store its validated and quarantined rows.

    Each chunk's rows that meet the contract are appended to the party's validated table and its
    other rows to the quarantine table (rows as received, with rule, column, value, reason, file
    and file row); both tables replace the previous ones only once every chunk is through and
    the table met the schema rules. Rows in = validated + quarantined, chunk by chunk and in
    total. Memory holds one chunk.

    Raises:
        InvalidDataError: the table breaks a schema-level rule (naming party and column); the
            stored validated and quarantine tables are left as they were.
        RowAccountingError: the split lost or duplicated rows.
    """
    table = as_chunked(raw)
    spec = gx_runner.contract_spec(suite_path)
    numbers = scan_numbers(table, suite_path)
    types = _validated_types(spec.column_types, numbers.fractional)
    stream = gx_runner.ContractStream(suite_path, numbers=numbers, keep_failures=SHOWN_FAILURES)
    kept_fractions: set[str] = set()
    samples: list[pd.DataFrame] = []
    sampled = 0
    reason_types = {name: pa.string() for name in (*gx_runner.QUARANTINE_COLUMNS, "_file")}
    with (
        party_store.writer(party, VALIDATED, types=types) as validated,
        party_store.writer(party, QUARANTINE, types={**reason_types, "_file_row": pa.int64()})
        as quarantine,
    ):
        for chunk in table.chunks():
            outcome = stream.validate(chunk)
            if stream.schema_failed:
                continue  # the split will be refused; the chunks still count the rows
            good = outcome.validated_frame(spec.column_types, numbers.fractional)
            bad = _quarantine_chunk(table, outcome)
            if len(good) + len(bad) != len(chunk):
                raise RowAccountingError(
                    f"party {party!r}: a chunk of {len(chunk)} rows from row {outcome.offset} "
                    f"split into {len(good)} validated and {len(bad)} quarantined rows"
                )
            for name in numbers.fractional - kept_fractions:
                if (good[name] % 1 != 0).any():
                    kept_fractions.add(name)
            validated.write(good)
            quarantine.write(bad)
            if quarantine.empty is None:
                quarantine.empty = bad.iloc[0:0]
            if sampled < SHOWN_FAILURES and len(bad):
                samples.append(bad.head(SHOWN_FAILURES - sampled))
                sampled += len(samples[-1])
        result = stream.finish()
        if not result.schema_ok:
            column, message = result.schema_failures[0]
            more = len(result.schema_failures) - 1
            raise InvalidDataError(
                f"table{_files_phrase(table)} breaks contract {result.suite_name!r}: {message}"
                + (f" (and {more} more schema problems)" if more else ""),
                party=party,
                column=column,
            )
        if result.rows != len(table) or validated.rows + quarantine.rows != len(table):
            raise RowAccountingError(
                f"party {party!r}: read {len(table)} rows but validated {validated.rows} and "
                f"quarantined {quarantine.rows} (of {result.rows} validated by the contract)"
            )
        whole = sorted(numbers.fractional - kept_fractions)
        if whole:  # the fractional numbers were all in quarantined rows: integers after all
            types.update({name: pa.int64() for name in whole})
            validated.rewrite(lambda df: df.astype(dict.fromkeys(whole, "int64")), types=types)
        for name in sorted(kept_fractions):
            logger.warning("column %s holds fractional numbers; kept as float64, not int64", name)
        validated.empty = _empty_validated(types)
        dtypes = dict(validated.dtypes) or _empty_validated(types).dtypes.to_dict()
        dtypes.update({name: np.dtype("int64") for name in whole})
        rows_validated, rows_quarantined = validated.rows, quarantine.rows
        validated.commit()
        quarantine.commit()
    logger.info(
        "party %s: %d rows read, %d validated, %d quarantined",
        party, len(table), rows_validated, rows_quarantined,
    )
    sample = (
        pd.concat(samples, ignore_index=True) if samples else quarantine.empty.iloc[0:0]
    )
    return PartySplit(
        party, len(table), rows_validated, rows_quarantined, dtypes, sample, result
    )
