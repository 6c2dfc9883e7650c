"""The contract's rules as the stream tracks them, and which of them can be run chunk by chunk."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Rules whose verdict on a table is their verdict on each chunk of it: rules about the columns
#: (every chunk has the table's columns and dtypes) and rules about one row at a time.
STRUCTURE_RULES = frozenset(
    {
        "expect_column_to_exist",
        "expect_table_columns_to_match_set",
        "expect_table_columns_to_match_ordered_list",
        "expect_table_column_count_to_equal",
        "expect_table_column_count_to_be_between",
    }
)
ONE_ROW_PREFIXES = (
    "expect_column_values_to_",
    "expect_column_pair_values_",
    "expect_multicolumn_sum_",
    "expect_select_column_values_to_be_unique_within_record",
)
#: Map rules that compare rows with each other: no chunk can decide them alone.
_ACROSS_ROWS = frozenset(
    {
        "expect_column_values_to_be_unique",
        "expect_column_values_to_be_increasing",
        "expect_column_values_to_be_decreasing",
    }
)
#: Rules on the number of rows: evaluated once, on the stream's total.
ROW_COUNT_RULES = frozenset(
    {"expect_table_row_count_to_be_between", "expect_table_row_count_to_equal"}
)


def chunkable(kind: str) -> bool:
    """Whether a rule can be run chunk by chunk with the verdict it has on the whole table."""
    if kind in _ACROSS_ROWS:
        return False
    return kind in STRUCTURE_RULES or kind.startswith(ONE_ROW_PREFIXES)


def columns_of(kwargs: Mapping[str, Any]) -> list[str]:
    """The columns a rule is about, from its GX kwargs."""
    if "column" in kwargs:
        return [kwargs["column"]]
    return [kwargs[k] for k in ("column_A", "column_B") if k in kwargs] or list(
        kwargs.get("column_list") or []
    )


@dataclass
class Rule:
    """One rule of the contract and its verdict so far, over the chunks validated."""

    kind: str
    kwargs: dict[str, Any]
    level: str
    success: bool = True
    unexpected_count: int = 0
    schema: list[tuple[str | None, str]] | None = None  # the first chunk's schema messages
    error: str | None = None  # the first chunk's "GX could not evaluate" message

    @property
    def columns(self) -> list[str]:
        return columns_of(self.kwargs)

    def summary(self) -> dict[str, Any]:
        """The rule as :attr:`ContractResult.rules` lists it."""
        return {
            "type": self.kind,
            "column": ",".join(self.columns) or None,
            "level": self.level,
            "success": self.success,
            "unexpected_count": self.unexpected_count,
        }


def row_count_outcome(kind: str, kwargs: Mapping[str, Any], rows: int) -> bool:
    """GX's verdict of a row count rule, on the stream's total."""
    if kind == "expect_table_row_count_to_equal":
        return rows == kwargs.get("value")
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if low is not None and (rows <= low if kwargs.get("strict_min") else rows < low):
        return False
    return not (high is not None and (rows >= high if kwargs.get("strict_max") else rows > high))
