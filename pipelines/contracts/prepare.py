"""Preparing a table for GX without changing any value, and the first pass that decides how.

Columns the contract types as numbers are read with ``pandas.to_numeric(errors="coerce")``: a cell
holding text such as ``'abc'`` becomes missing in the frame GX sees, so the column's not-null rule
reports that row, and its quarantine reason quotes the original text. Infinite numbers are treated
the same way. A column in which *no* value is a number is left as text, so that its schema-level
type rule fails instead of every row being quarantined.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pipelines.contracts.suite import NUMERIC_TYPES, ContractSpec


@dataclass(frozen=True)
class NumericScan:
    """What a first pass over a table's numeric columns decides for every chunk alike.

    Attributes:
        text_columns: columns the contract types as numbers in which not one value is a number.
            They are left as text, so that their type rule fails at schema level (a chunk that
            happens to hold only text is *not* such a column: its rows are quarantined).
        fractional: ``int64`` columns that hold a fractional number somewhere in the table.
    """

    text_columns: frozenset[str] = frozenset()
    fractional: frozenset[str] = frozenset()


def _as_numbers(column: pd.Series) -> tuple[pd.Series, bool]:
    """The column read as numbers, and whether its dtype already was numeric."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column, True
    return pd.to_numeric(column, errors="coerce"), False


def _is_integer_dtype(dtype: Any) -> bool:
    return pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def columns_to_scan(dtypes: Mapping[str, Any], spec: ContractSpec) -> list[str]:
    """Numeric contract columns whose dtype does not already settle :class:`NumericScan`."""
    return [
        name
        for name, kind in spec.column_types.items()
        if kind in NUMERIC_TYPES and name in dtypes and not _is_integer_dtype(dtypes[name])
    ]


def _has_fraction(numbers: pd.Series) -> bool:
    values = numbers.to_numpy(dtype=float, na_value=np.nan)
    finite = values[np.isfinite(values)]
    return bool((finite % 1 != 0).any())


def scan_numbers(
    chunks: Iterable[pd.DataFrame], spec: ContractSpec, columns: Collection[str]
) -> NumericScan:
    """Pass over ``columns`` of a table (from :func:`columns_to_scan`) chunk by chunk."""
    columns = list(columns)
    if not columns:
        return NumericScan()
    has_number: set[str] = set()
    numeric_dtype: set[str] = set()
    fractional: set[str] = set()
    for chunk in chunks:
        for name in columns:
            numbers, already = _as_numbers(chunk[name])
            if already:
                numeric_dtype.add(name)
            if name not in has_number and numbers.notna().any():
                has_number.add(name)
            if (
                spec.column_types[name] == "int64"
                and name not in fractional
                and _has_fraction(numbers)
            ):
                fractional.add(name)
    text = {c for c in columns if c not in has_number and c not in numeric_dtype}
    return NumericScan(frozenset(text), frozenset(fractional))


def _prepare_number(
    column: pd.Series, name: str, text_columns: Collection[str] | None
) -> tuple[pd.Series, pd.Series | None]:
    """A numeric contract column as GX sees it, and its cells that are not numbers (or None)."""
    numbers, already = _as_numbers(column)
    if already:
        bad = pd.Series(False, index=column.index)
    else:
        bad = column.notna() & numbers.isna()
        if text_columns is None:
            as_text = bool(bad.all()) or not numbers.notna().any()
        else:
            as_text = name in text_columns
        if as_text:
            return column.astype(object), None  # wholly non-numeric: a schema problem
    # inf and -inf are numbers to pandas but no value the model can learn: they are reported
    # like text, through the not-null rule, and quarantined
    values = numbers.to_numpy(dtype=float, na_value=np.nan)
    infinite = pd.Series(np.isinf(values), index=column.index)
    if infinite.any():
        numbers = numbers.where(~infinite)
        bad = bad | infinite
    if bad.any():
        return numbers, column[bad]
    return numbers, None


def prepare_frame(
    raw: pd.DataFrame, spec: ContractSpec, text_columns: Collection[str] | None = None
) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """The frame GX sees, plus, per numeric column, the raw text of cells that are not numbers.

    ``text_columns``: numeric contract columns to leave as text (no value in the table is a
    number); None decides from this frame alone (the frame is the whole table).
    """
    frame = raw.reset_index(drop=True).copy()
    not_numbers: dict[str, pd.Series] = {}
    for name, kind in spec.column_types.items():
        if name not in frame.columns:
            continue
        column = frame[name]
        if kind in NUMERIC_TYPES:
            prepared, bad = _prepare_number(column, name, text_columns)
            if prepared is not column:
                frame[name] = prepared
            if bad is not None:
                not_numbers[name] = bad
        elif isinstance(column.dtype, pd.StringDtype | pd.CategoricalDtype):
            frame[name] = column.astype(object).where(column.notna(), None)
    return frame, not_numbers
