"""The work behind the ingest assets and checks, kept out of the Dagster decorators."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd

from dagan_core.errors import InvalidDataError
from pipelines import gx_runner
from pipelines.contract_meta import shared_table_schema
from pipelines.metadata import json_value, md_table
from pipelines.resources.landing import SOURCE_FILES, FileRows

logger = logging.getLogger(__name__)

CHECK_NAME = "party_table_contract"
#: Quarantine columns added to the contract's reasons: the landing file a row came from and its
#: data row number in that file (1 = the first row after the header).
SOURCE_COLUMNS = ("_file", "_file_row")
#: How many failing rows a check description or log line spells out.
SHOWN_FAILURES = 10


class RowAccountingError(RuntimeError):
    """Rows were lost or duplicated between the raw table and its validated/quarantined parts."""


def table_schema(df: pd.DataFrame) -> dg.TableSchema:
    """The frame's columns and dtypes, described as the contract describes them."""
    return shared_table_schema({str(name): str(dtype) for name, dtype in df.dtypes.items()})


def raw_table_metadata(
    party: str, table: pd.DataFrame, files: list[FileRows], landing_dir: Path, stored: Path
) -> dict[str, Any]:
    """Materialization metadata of a party's raw table."""
    return {
        "party": party,
        "dagster/row_count": len(table),
        "dagster/column_schema": table_schema(table),
        "columns": len(table.columns),
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


def source_files(raw: pd.DataFrame) -> list[str]:
    """Names of the landing files the raw table was read from (empty if unknown)."""
    return [str(name) for name, _ in raw.attrs.get(SOURCE_FILES) or []]


def locate_rows(raw: pd.DataFrame, rows: list[int]) -> list[tuple[str | None, int | None]]:
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
    raw: pd.DataFrame, row_failures: pd.DataFrame, limit: int = SHOWN_FAILURES
) -> str:
    """``file 'a.csv' row 4, column 'age', value -5: age=-5 is outside [17, 90]; ...``."""
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
    more = len(row_failures) - len(shown)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def _files_phrase(raw: pd.DataFrame) -> str:
    files = source_files(raw)
    if not files:
        return ""
    shown = ", ".join(map(repr, files[:SHOWN_FAILURES]))
    more = len(files) - SHOWN_FAILURES
    plural = "s" if len(files) > 1 else ""
    return f" (file{plural} {shown}{f' and {more} more' if more > 0 else ''})"


def contract_check_result(
    party: str, raw: pd.DataFrame, suite_path: str | os.PathLike[str] | None = None
) -> dg.AssetCheckResult:
    """The verdict of the party table contract on a party's raw table.

    Schema-level failures fail the check (severity ERROR, which blocks the party's downstream
    assets). Row-level failures alone pass it with severity WARN: those rows are quarantined by
    ``validated_party_table``.
    """
    result = gx_runner.validate_frame(raw, suite_path)
    common = {
        "party": party,
        "contract": result.suite_name,
        "rows": result.rows,
        "rows_failing_row_rules": len(result.failed_rows),
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
    failing = len(result.failed_rows)
    if failing:
        description = (
            f"party {party!r}{_files_phrase(raw)}: schema OK; {failing} of {result.rows} rows "
            f"break row-level rules and will be quarantined: "
            f"{describe_row_failures(raw, result.row_failures)}"
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
    """A party's raw table split into rows that meet the contract and quarantined rows."""

    party: str
    rows_read: int
    validated: pd.DataFrame
    quarantine: pd.DataFrame
    result: gx_runner.ContractResult

    def problems(self, limit: int = SHOWN_FAILURES) -> str:
        """The first quarantined rows spelled out: file, row, column, value and reason."""
        if self.quarantine.empty:
            return ""
        shown = self.quarantine.head(limit)
        parts = [
            f"{_where(f if isinstance(f, str) else None, r)}, column {c!r}, value {v}: {why}"
            for f, r, c, v, why in zip(
                shown["_file"], shown["_file_row"], shown["_column"], shown["_value"],
                shown["_reason"], strict=True,
            )
        ]
        more = len(self.quarantine) - len(shown)
        return "; ".join(parts) + (f" (and {more} more rows)" if more > 0 else "")

    def metadata(self) -> dict[str, Any]:
        reasons = (
            self.result.row_failures.groupby(["_column", "_rule"]).size().rename("rows")
            .reset_index().sort_values("rows", ascending=False)
        )
        return {
            "party": self.party,
            "rows_read": self.rows_read,
            "rows_validated": len(self.validated),
            "rows_quarantined": len(self.quarantine),
            "dagster/row_count": len(self.validated),
            "dagster/column_schema": table_schema(self.validated),
            "quarantine_reasons": md_table(reasons),
            "quarantine_sample": md_table(
                self.quarantine[[*SOURCE_COLUMNS, *gx_runner.QUARANTINE_COLUMNS]], max_rows=10
            ),
        }


def split_party_table(
    party: str, raw: pd.DataFrame, suite_path: str | os.PathLike[str] | None = None
) -> PartySplit:
    """Validate a party's raw table and split it; rows in = validated + quarantined, exactly.

    Raises:
        InvalidDataError: the table breaks a schema-level rule (naming party and column).
        RowAccountingError: the split lost or duplicated rows.
    """
    result = gx_runner.validate_frame(raw, suite_path)
    if not result.schema_ok:
        column, message = result.schema_failures[0]
        more = len(result.schema_failures) - 1
        raise InvalidDataError(
            f"table{_files_phrase(raw)} breaks contract {result.suite_name!r}: {message}"
            + (f" (and {more} more schema problems)" if more else ""),
            party=party,
            column=column,
        )
    spec = gx_runner.contract_spec(suite_path)
    validated = result.validated_frame(spec.column_types)
    quarantine = result.quarantine_frame(raw)
    quarantine.attrs.clear()  # the file list describes the raw table, not this part of it
    places = locate_rows(raw, result.failed_rows)
    quarantine["_file"] = pd.Series([f for f, _ in places], index=quarantine.index, dtype=object)
    quarantine["_file_row"] = pd.Series(
        [r for _, r in places], index=quarantine.index, dtype="Int64"
    )
    if len(validated) + len(quarantine) != len(raw):
        raise RowAccountingError(
            f"party {party!r}: read {len(raw)} rows but validated {len(validated)} and "
            f"quarantined {len(quarantine)}"
        )
    logger.info(
        "party %s: %d rows read, %d validated, %d quarantined",
        party, len(raw), len(validated), len(quarantine),
    )
    return PartySplit(party, len(raw), validated, quarantine, result)
