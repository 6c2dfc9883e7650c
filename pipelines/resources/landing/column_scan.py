"""What the first pass over a party's landing files learns about each column's type."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


def as_text(value: object) -> object:
    return value if isinstance(value, str) or pd.isna(value) else str(value)


def _has_wide_integer(column: pd.Series, numbers: pd.Series) -> bool:
    """Whether a text column holds a whole number that a float64 does not hold exactly (beyond
    2**53, such as 2**63 or 2**64): should the column become float64 (or wrap in int64), the
    number would change, so the column is then kept as written."""
    if numbers.dtype.kind == "u":
        return True
    if numbers.dtype.kind not in "if":
        return False
    large = numbers.abs() >= 2.0**53
    if not large.any():
        return False
    return bool(column[large].astype(str).str.fullmatch(r"\s*[+-]?\d+\s*").any())


@dataclass
class ColumnScan:
    """What the first pass learns about one column across all of a party's files."""

    has_values: bool = False
    all_numbers: bool = True
    has_missing: bool = False
    kinds: set[str] = field(default_factory=set)  # numpy kinds of the numbers seen
    other: bool = False  # a typed (Parquet) column that is neither number nor text
    wide: bool = False  # a whole number written in the file that float64 does not hold exactly

    def update(self, column: pd.Series) -> None:
        present = column.notna()
        self.has_missing |= bool((~present).any())
        if not present.any():
            return
        self.has_values = True
        if column.dtype == object:
            numbers = pd.to_numeric(column, errors="coerce")
            if int(numbers.notna().sum()) != int(present.sum()):
                self.all_numbers = False
            else:
                self.kinds.add(numbers.dtype.kind)
            self.wide = self.wide or _has_wide_integer(column, numbers)
        elif column.dtype.kind in "iuf":
            self.kinds.add(column.dtype.kind)
        else:
            self.other = True

    def dtype(self) -> np.dtype | None:
        """The column's final numeric dtype, or None when it stays as it is (text, other)."""
        if self.other or not self.has_values or not self.all_numbers:
            return None
        if self.kinds == {"i"} and not self.has_missing:
            return np.dtype("int64")
        if self.wide:
            return None  # float64 would round a whole number: kept as written
        if self.kinds == {"u"} and not self.has_missing:
            return np.dtype("uint64")
        return np.dtype("float64")
