"""What validating a table (or one chunk of it) against the contract yields."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from pipelines.contracts.suite import NUMERIC_TYPES, ROW

QUARANTINE_COLUMNS = ("_rule", "_column", "_value", "_reason")
ROW_FAILURE_COLUMNS = ("_row", *QUARANTINE_COLUMNS)


def row_failure_frame(failures: list[tuple[int, str, str, str, str]]) -> pd.DataFrame:
    """Row failures ``(row, rule, column, value, reason)`` as a frame sorted by row and rule."""
    frame = pd.DataFrame(failures, columns=list(ROW_FAILURE_COLUMNS))
    frame["_row"] = frame["_row"].astype("int64")
    return frame.sort_values(["_row", "_rule"], kind="stable").reset_index(drop=True)


@dataclass
class ContractResult:
    """The outcome of validating one table (whole or chunk by chunk) against a contract.

    ``row_failures`` has one row per (failing row, broken rule) with columns ``_row`` (position in
    the validated table), ``_rule``, ``_column``, ``_value`` and ``_reason``, sorted by row. A
    streamed validation keeps only the first ``keep_failures`` of them; ``failure_count`` and
    ``failed_row_count`` always count them all.
    """

    suite_name: str
    rows: int
    success: bool
    schema_failures: list[tuple[str | None, str]]
    row_failures: pd.DataFrame
    statistics: dict[str, Any]
    rules: list[dict[str, Any]]
    failure_count: int = 0
    failed_row_count: int = 0
    typed: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def schema_ok(self) -> bool:
        return not self.schema_failures

    @property
    def failed_rows(self) -> list[int]:
        """Positions of the failing rows among ``row_failures`` (all of them unless capped)."""
        return sorted(set(self.row_failures["_row"].tolist()))

    def failure_counts(self) -> dict[str, int]:
        """How many rows each (rule, column) rejected, e.g. ``{"age: between": 3}``."""
        counts: dict[str, int] = {}
        for rule in self.rules:
            if rule["level"] == ROW and rule["unexpected_count"]:
                counts[f"{rule['column']}: {rule['type']}"] = rule["unexpected_count"]
        return counts


def _typed_column(column: pd.Series, kind: str, as_float: bool) -> pd.Series:
    if kind not in NUMERIC_TYPES:
        return column.astype(object)
    wanted = "float64" if kind == "float64" or as_float else "int64"
    return pd.to_numeric(column).astype(wanted)


@dataclass
class ChunkOutcome:
    """One chunk of a streamed validation: the chunk as received, as GX saw it, and its failures.

    ``row_failures`` is laid out like :attr:`ContractResult.row_failures`; its ``_row`` is the
    position in the whole table (``offset`` + position in the chunk).
    """

    offset: int
    raw: pd.DataFrame = field(repr=False)
    typed: pd.DataFrame = field(repr=False)
    row_failures: pd.DataFrame

    @property
    def failed_rows(self) -> list[int]:
        """Table positions of the chunk's failing rows, sorted."""
        return sorted(set(self.row_failures["_row"].tolist()))

    def validated_frame(
        self, column_types: Mapping[str, str], as_float: Collection[str] = ()
    ) -> pd.DataFrame:
        """The chunk's rows that broke no rule, typed as the contract says.

        ``int64`` columns named in ``as_float`` stay ``float64``: the table holds a fractional
        number there somewhere (see :class:`NumericScan`), and every chunk must have one dtype.
        """
        local = [row - self.offset for row in self.failed_rows]
        keep = self.typed.drop(index=local)
        out = pd.DataFrame(index=keep.index)
        for name, kind in column_types.items():
            out[name] = _typed_column(keep[name], kind, name in as_float)
        return out.reset_index(drop=True)

    def quarantine_frame(self) -> pd.DataFrame:
        """The chunk's failing rows as received, with the reasons of each row joined by '; '."""
        if self.row_failures.empty:
            empty = self.raw.iloc[0:0].copy()
            for name in QUARANTINE_COLUMNS:
                empty[name] = pd.Series(dtype=object)
            return empty
        grouped = self.row_failures.groupby("_row", sort=True)[list(QUARANTINE_COLUMNS)].agg(
            "; ".join
        )
        out = self.raw.iloc[grouped.index.to_numpy() - self.offset].copy()
        for name in QUARANTINE_COLUMNS:
            out[name] = grouped[name].to_numpy()
        return out.reset_index(drop=True)
