"""The work behind the ingest assets and checks, kept out of the Dagster decorators."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from dagan_core.errors import InvalidDataError
from pipelines import gx_runner
from pipelines.metadata import column_schema, json_value, md_table
from pipelines.resources.landing import FileRows

logger = logging.getLogger(__name__)

CHECK_NAME = "party_table_contract"


class RowAccountingError(RuntimeError):
    """Rows were lost or duplicated between the raw table and its validated/quarantined parts."""


def table_schema(df: pd.DataFrame) -> dg.TableSchema:
    return column_schema((name, str(dtype)) for name, dtype in df.dtypes.items())


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
                f"party {party!r}: table breaks contract {result.suite_name!r} "
                f"(columns {', '.join(map(repr, columns)) or '-'}): {problems}"
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
            f"party {party!r}: schema OK; {failing} of {result.rows} rows break row-level rules "
            "and will be quarantined"
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
                self.quarantine[list(gx_runner.QUARANTINE_COLUMNS)], max_rows=10
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
            f"table breaks contract {result.suite_name!r}: {message}"
            + (f" (and {more} more schema problems)" if more else ""),
            party=party,
            column=column,
        )
    spec = gx_runner.contract_spec(suite_path)
    validated = result.validated_frame(spec.column_types)
    quarantine = result.quarantine_frame(raw)
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
