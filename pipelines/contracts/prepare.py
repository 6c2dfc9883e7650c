"""Preparing a table for GX without changing any value, and the first pass that decides how.

Columns the contract types as numbers are read with ``pandas.to_numeric(errors="coerce")``: a cell
holding text such as ``'abc'`` becomes missing in the frame GX sees, so the column's not-null rule
reports that row, and its quarantine reason quotes the original text. Infinite numbers are treated
the same way, and so is a number an ``int64`` column cannot hold: a fraction (``37.5``) or a whole
number beyond the int64 range (``1e308``, ``2**63``); the contract's type is the contract, so such
a value is one row's failure, never a change of the column's type. Text with a NUL byte is
reported the same way, quoted with the byte escaped. A column in which *no* value is a number is
left as text, so that its schema-level type rule fails instead of every row being quarantined.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pipelines.contracts.reasons import not_a_number_reason, short
from pipelines.contracts.suite import NUMERIC_TYPES, ContractSpec

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class NumericScan:
    """What a first pass over a table's numeric columns decides for every chunk alike.

    Attributes:
        text_columns: columns the contract types as numbers in which not one value is a number.
            They are left as text, so that their type rule fails at schema level (a chunk that
            happens to hold only text is *not* such a column: its rows are quarantined).
    """

    text_columns: frozenset[str] = frozenset()


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


def scan_numbers(
    chunks: Iterable[pd.DataFrame], spec: ContractSpec, columns: Collection[str]
) -> NumericScan:
    """Pass over ``columns`` of a table (from :func:`columns_to_scan`) chunk by chunk."""
    columns = list(columns)
    if not columns:
        return NumericScan()
    has_number: set[str] = set()
    numeric_dtype: set[str] = set()
    for chunk in chunks:
        for name in columns:
            numbers, already = _as_numbers(chunk[name])
            if already:
                numeric_dtype.add(name)
            if name not in has_number and numbers.notna().any():
                has_number.add(name)
    text = {c for c in columns if c not in has_number and c not in numeric_dtype}
    return NumericScan(frozenset(text))


def _fits_int64(cell: Any) -> bool:
    """Whether a cell written as a whole number fits int64 exactly (text read with ``int``)."""
    try:
        number = int(str(cell).strip())
    except ValueError:
        return False
    return INT64_MIN <= number <= INT64_MAX


def _int64_misfits(column: pd.Series, numbers: pd.Series) -> pd.Series:
    """Reasons of the cells of an ``int64`` column that hold a number it cannot hold exactly:
    a fraction, or a whole number beyond the int64 range (read as a float, it would wrap)."""
    reasons = pd.Series(None, index=column.index, dtype=object)
    if _is_integer_dtype(numbers.dtype):
        if numbers.dtype.kind == "u":
            over = numbers > INT64_MAX
            reasons[over] = "range"
        return reasons
    values = numbers.to_numpy(dtype=float, na_value=np.nan)
    finite = np.isfinite(values)
    fraction = finite & (np.mod(values, 1, where=finite, out=np.zeros_like(values)) != 0)
    outside = finite & ~fraction & ((values >= 2.0**63) | (values < -(2.0**63)))
    for index in np.flatnonzero(outside):  # the edge of the range: decide on the text itself
        cell = column.iat[index]
        if isinstance(cell, str) and _fits_int64(cell):
            outside[index] = False
    reasons[fraction] = "fraction"
    reasons[outside] = "range"
    return reasons


def _misfit_reason(kind: str, value: Any, name: str) -> str:
    if kind == "fraction":
        return f"fractional value {short(value)} in whole-number (int64) column {name}"
    return (
        f"value {short(value)} does not fit column {name}'s type int64 (whole numbers from "
        f"{INT64_MIN} to {INT64_MAX})"
    )


def _prepare_number(
    column: pd.Series, name: str, kind: str, text_columns: Collection[str] | None
) -> tuple[pd.Series, pd.Series | None]:
    """A numeric contract column as GX sees it, and the reasons of its cells that are not
    numbers the column can hold (or None)."""
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
    bad = bad | np.isinf(values)
    reasons = pd.Series(None, index=column.index, dtype=object)
    for index in np.flatnonzero(bad.to_numpy()):
        reasons.iat[index] = not_a_number_reason(column.iat[index], name)
    if kind == "int64":
        misfit = _int64_misfits(column, numbers)
        for index in np.flatnonzero(misfit.notna().to_numpy() & ~bad.to_numpy()):
            reasons.iat[index] = _misfit_reason(misfit.iat[index], column.iat[index], name)
        bad = bad | misfit.notna()
    if bad.any():
        numbers = numbers.where(~bad)
        if numbers.dtype.kind == "u":
            numbers = numbers.astype("float64")
        return numbers, reasons[bad]
    return numbers, None


def _text_with_nul(column: pd.Series, name: str) -> pd.Series | None:
    """Reasons of the text cells holding a NUL byte (quoted with it escaped), or None."""
    texts = column.dropna()
    texts = texts[texts.astype(str).str.contains("\x00", regex=False)]
    if texts.empty:
        return None
    return texts.map(lambda v: f"value {short(v, 200)} in column {name} holds a NUL byte (\\x00)")


def prepare_frame(
    raw: pd.DataFrame, spec: ContractSpec, text_columns: Collection[str] | None = None
) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """The frame GX sees, plus, per column, the reasons of the cells it hides from GX (text in a
    number column, numbers the column's type cannot hold, text with NUL bytes): GX sees a gap
    there, the column's not-null rule reports the row and the reason replaces GX's.

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
            prepared, bad = _prepare_number(column, name, kind, text_columns)
            if prepared is not column:
                frame[name] = prepared
            if bad is not None:
                not_numbers[name] = bad
            continue
        if isinstance(column.dtype, pd.StringDtype | pd.CategoricalDtype):
            frame[name] = column = column.astype(object).where(column.notna(), None)
        if column.dtype == object:
            nul = _text_with_nul(column, name)
            if nul is not None:
                frame[name] = column.where(~column.index.isin(nul.index), None)
                not_numbers[name] = nul
    return frame, not_numbers


def _exact_integer(cell: Any) -> int:
    text = str(cell).strip()
    try:
        return int(text)
    except ValueError:
        return int(float(text))  # a float literal such as 9.2e18: the whole number it holds


def exact_integers(frame: pd.DataFrame, raw: pd.DataFrame, spec: ContractSpec) -> pd.DataFrame:
    """``frame`` with each ``int64`` contract column that GX saw as float64 made ``int64`` again,
    from the cells as received: float64 rounds whole numbers beyond 2**53, so a text cell such as
    ``9223372036854775807`` is read again exactly. Cells GX saw as gaps get 0: their rows broke
    the not-null rule and are quarantined."""
    out = frame
    for name, kind in spec.column_types.items():
        if kind != "int64" or name not in frame.columns or raw[name].dtype.kind not in "OUu":
            continue
        if frame[name].dtype.kind not in "fu":
            continue  # left as text (no value is a number): a schema failure, never written
        values = frame[name].to_numpy(dtype=float, na_value=np.nan)
        gaps = np.isnan(values)
        large = ~gaps & (np.abs(np.where(gaps, 0.0, values)) >= 2.0**53)
        if not large.any():
            continue
        exact = np.where(gaps | large, 0.0, values).astype(np.int64)
        for index in np.flatnonzero(large):
            exact[index] = _exact_integer(raw[name].iat[index])
        out = out.copy() if out is frame else out
        out[name] = exact
    return out
