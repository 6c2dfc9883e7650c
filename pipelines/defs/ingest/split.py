"""Splitting a party's raw table into its validated and quarantined rows, chunk by chunk.

The contract runs here, once per party: :func:`split_party_table` validates every chunk, stores the
rows that meet the contract and the rows that do not, and returns the contract's verdict with the
counts; a schema-level breach raises :class:`ContractBreachError`, which carries the verdict too.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa

from dagan_core.errors import InvalidDataError
from pipelines import contracts
from pipelines.chunked_tables import ChunkedTable
from pipelines.defs.ingest.row_sources import (
    SHOWN_FAILURES,
    SOURCE_COLUMNS,
    as_chunked,
    files_phrase,
    locate_rows,
    where,
)
from pipelines.defs.ingest.table_metadata import table_schema
from pipelines.metadata import md_table
from pipelines.resources.party_store import QUARANTINE, VALIDATED, PartyStore

logger = logging.getLogger(__name__)


class RowAccountingError(RuntimeError):
    """Rows were lost or duplicated between the raw table and its validated/quarantined parts."""


class ContractBreachError(InvalidDataError):
    """The table breaks a schema-level rule; ``result`` is the contract's verdict."""

    def __init__(self, message: str, result: contracts.ContractResult, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.result = result


def scan_table_numbers(
    table: ChunkedTable, suite_path: str | os.PathLike[str] | None = None
) -> contracts.NumericScan:
    """First pass over the numeric columns that need it (none when they are all integers)."""
    spec = contracts.contract_spec(suite_path)
    columns = contracts.columns_to_scan(table.dtypes, spec)
    return contracts.scan_numbers(table.chunks(columns) if columns else [], spec, columns)


def _known(value: Any) -> int | None:
    return None if pd.isna(value) else int(value)


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
    result: contracts.ContractResult

    def problems(self, limit: int = SHOWN_FAILURES) -> str:
        """The first quarantined rows spelled out: file, row, column, value and reason."""
        if self.quarantine_sample.empty:
            return ""
        shown = self.quarantine_sample.head(limit)
        parts = [
            f"{where(f if isinstance(f, str) else None, r, _known(n))}, column {c!r}, "
            f"value {v}: {why}"
            for f, r, n, c, v, why in zip(
                shown["_file"], shown["_file_row"], shown["_file_line"], shown["_column"],
                shown["_value"], shown["_reason"], strict=True,
            )
        ]
        more = self.rows_quarantined - len(shown)
        return "; ".join(parts) + (f" (and {more} more rows)" if more > 0 else "")

    def metadata(self) -> dict[str, Any]:
        reasons = pd.DataFrame(
            [
                (rule["column"] or "", rule["type"], rule["unexpected_count"])
                for rule in self.result.rules
                if rule["level"] == contracts.ROW and rule["unexpected_count"]
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
                self.quarantine_sample[[*SOURCE_COLUMNS, *contracts.QUARANTINE_COLUMNS]],
                max_rows=10,
            ),
        }


def _validated_types(column_types: Mapping[str, str]) -> dict[str, pa.DataType]:
    types = {}
    for name, kind in column_types.items():
        if kind == "int64":
            types[name] = pa.int64()
        elif kind in contracts.NUMERIC_TYPES:
            types[name] = pa.float64()
        else:
            types[name] = pa.string()
    return types


def _empty_validated(types: Mapping[str, pa.DataType]) -> pd.DataFrame:
    dtypes = {pa.int64(): "int64", pa.float64(): "float64"}
    return pd.DataFrame(
        {name: pd.Series(dtype=dtypes.get(kind, object)) for name, kind in types.items()}
    )


def _quarantine_chunk(table: ChunkedTable, outcome: contracts.ChunkOutcome) -> pd.DataFrame:
    quarantine = outcome.quarantine_frame()
    quarantine.attrs.clear()  # the file list describes the raw table, not this part of it
    places = locate_rows(table, outcome.failed_rows)
    quarantine["_file"] = pd.Series([p[0] for p in places], index=quarantine.index, dtype=object)
    for position, name in enumerate(("_file_row", "_file_line"), start=1):
        quarantine[name] = pd.Series(
            [p[position] for p in places], index=quarantine.index, dtype="Int64"
        )
    return quarantine


def _breach(party: str, table: ChunkedTable, result: contracts.ContractResult) -> Exception:
    column, message = result.schema_failures[0]
    more = len(result.schema_failures) - 1
    return ContractBreachError(
        f"table{files_phrase(table)} breaks contract {result.suite_name!r}: {message}"
        + (f" (and {more} more schema problems)" if more else ""),
        result,
        party=party,
        column=column,
    )


class _Split:
    """The running state of one split: the writers and the quarantine sample."""

    def __init__(self, party: str, table: ChunkedTable, spec, numbers, validated, quarantine):
        self.party, self.table, self.spec, self.numbers = party, table, spec, numbers
        self.validated, self.quarantine = validated, quarantine
        self.samples: list[pd.DataFrame] = []
        self.sampled = 0

    def add(self, chunk: pd.DataFrame, outcome: contracts.ChunkOutcome) -> None:
        """Store a chunk's validated and quarantined rows."""
        good = outcome.validated_frame(self.spec.column_types)
        bad = _quarantine_chunk(self.table, outcome)
        if len(good) + len(bad) != len(chunk):
            raise RowAccountingError(
                f"party {self.party!r}: a chunk of {len(chunk)} rows from row {outcome.offset} "
                f"split into {len(good)} validated and {len(bad)} quarantined rows"
            )
        self.validated.write(good)
        self.quarantine.write(bad)
        if self.quarantine.empty is None:
            self.quarantine.empty = bad.iloc[0:0]
        if self.sampled < SHOWN_FAILURES and len(bad):
            self.samples.append(bad.head(SHOWN_FAILURES - self.sampled))
            self.sampled += len(self.samples[-1])

    def settle_types(self, types: dict[str, pa.DataType]) -> dict[str, Any]:
        """The validated table's dtypes (the contract's), once every chunk is in."""
        self.validated.empty = _empty_validated(types)
        return dict(self.validated.dtypes) or _empty_validated(types).dtypes.to_dict()

    def sample(self) -> pd.DataFrame:
        if self.samples:
            return pd.concat(self.samples, ignore_index=True)
        return self.quarantine.empty.iloc[0:0]


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
        ContractBreachError: the table breaks a schema-level rule (naming party and column, and
            carrying the contract's verdict); the stored validated and quarantine tables are left
            as they were.
        RowAccountingError: the split lost or duplicated rows.
    """
    table = as_chunked(raw)
    spec = contracts.contract_spec(suite_path)
    numbers = scan_table_numbers(table, suite_path)
    types = _validated_types(spec.column_types)
    stream = contracts.ContractStream(suite_path, numbers=numbers, keep_failures=SHOWN_FAILURES)
    reason_types = {name: pa.string() for name in (*contracts.QUARANTINE_COLUMNS, "_file")}
    with (
        party_store.writer(party, VALIDATED, types=types) as validated,
        party_store.writer(
            party, QUARANTINE,
            types={**reason_types, "_file_row": pa.int64(), "_file_line": pa.int64()},
        ) as quarantine,
    ):
        split = _Split(party, table, spec, numbers, validated, quarantine)
        for chunk in table.chunks():
            outcome = stream.validate(chunk)
            if not stream.schema_failed:  # else the split is refused; the chunks count the rows
                split.add(chunk, outcome)
        result = stream.finish()
        if not result.schema_ok:
            raise _breach(party, table, result)
        if result.rows != len(table) or validated.rows + quarantine.rows != len(table):
            raise RowAccountingError(
                f"party {party!r}: read {len(table)} rows but validated {validated.rows} and "
                f"quarantined {quarantine.rows} (of {result.rows} validated by the contract)"
            )
        dtypes = split.settle_types(types)
        rows_validated, rows_quarantined = validated.rows, quarantine.rows
        validated.commit()
        quarantine.commit()
    logger.info(
        "party %s: %d rows read, %d validated, %d quarantined",
        party, len(table), rows_validated, rows_quarantined,
    )
    return PartySplit(
        party, len(table), rows_validated, rows_quarantined, dtypes, split.sample(), result
    )
