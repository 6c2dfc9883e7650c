"""The shared table schema, agreed from what each party declares about its columns.

Each party declares only column names and value kinds (no rows); the coordinator merges the
declarations into one :class:`TableSchema`; each party then validates its own table against it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dagan_core.errors import InvalidDataError, SchemaMismatchError

DISCRETE = "discrete"
CONTINUOUS = "continuous"


@dataclass(frozen=True)
class ColumnSpec:
    """One column of the shared schema.

    Attributes:
        name: column name.
        kind: "discrete" or "continuous".
        dtype: "int", "float", "bool" or "object" (how decoded values are typed).
    """

    name: str
    kind: str
    dtype: str


@dataclass(frozen=True)
class TableSchema:
    """Ordered columns plus the label column."""

    columns: tuple[ColumnSpec, ...]
    label: str

    @property
    def names(self) -> list[str]:
        """Column names in table order."""
        return [c.name for c in self.columns]

    @property
    def discrete_columns(self) -> list[str]:
        """Names of the discrete columns (the label included)."""
        return [c.name for c in self.columns if c.kind == DISCRETE]

    @property
    def continuous_columns(self) -> list[str]:
        """Names of the continuous columns."""
        return [c.name for c in self.columns if c.kind == CONTINUOUS]

    def spec(self, name: str) -> ColumnSpec:
        """The spec of one column."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"label": self.label, "columns": [c.__dict__ for c in self.columns]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TableSchema:
        """Inverse of :meth:`to_dict`."""
        return cls(tuple(ColumnSpec(**c) for c in data["columns"]), data["label"])


def _dtype_name(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_integer_dtype(series):
        return "int"
    if pd.api.types.is_float_dtype(series):
        return "float"
    return "object"


def declare_columns(
    party: str, df: pd.DataFrame, label: str, discrete_columns: Sequence[str] | None
) -> dict[str, tuple[str, str]]:
    """What a party tells the coordinator about its columns: name -> (kind, dtype).

    Raises:
        InvalidDataError: empty table, duplicate column names, missing label or unknown
            discrete column.
    """
    if not isinstance(df, pd.DataFrame):
        raise InvalidDataError(f"expected a pandas DataFrame, got {type(df).__name__}", party=party)
    if df.columns.duplicated().any():
        dup = df.columns[df.columns.duplicated()][0]
        raise InvalidDataError("duplicate column name", party=party, column=str(dup))
    if len(df) < 2:
        raise InvalidDataError(
            f"a party needs at least 2 rows to train its critic, got {len(df)}",
            party=party, value=len(df),
        )
    if label not in df.columns:
        raise InvalidDataError("label column is missing", party=party, column=label)
    if discrete_columns is not None:
        for col in discrete_columns:
            if col not in df.columns:
                raise InvalidDataError("discrete column is not in the table", party=party,
                                       column=col)
    declared = {}
    for col in df.columns:
        s = df[col]
        if discrete_columns is None:
            is_discrete = col == label or not (
                pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
            )
        else:
            is_discrete = col == label or col in discrete_columns
        declared[str(col)] = (DISCRETE if is_discrete else CONTINUOUS, _dtype_name(s))
    return declared


def _all_columns(declarations: Mapping[str, Mapping[str, tuple[str, str]]]) -> list[str]:
    """Every declared column: the first party's order, then others' new columns as they come."""
    parties = list(declarations)
    all_columns: list[str] = list(declarations[parties[0]])
    for party in parties[1:]:
        for col in declarations[party]:
            if col not in all_columns:
                all_columns.append(col)
    return all_columns


def _agreed_kind(declarations: Mapping[str, Mapping[str, tuple[str, str]]], col: str) -> str:
    """The column's kind, which every party must declare alike."""
    parties = list(declarations)
    reference = declarations[parties[0]][col][0]
    bad = next((p for p in parties if declarations[p][col][0] != reference), None)
    if bad is not None:
        raise SchemaMismatchError(
            f"column is {reference} at {parties[0]!r} but {declarations[bad][col][0]} here",
            party=bad, column=col,
        )
    return reference


def _widened_dtype(declarations: Mapping[str, Mapping[str, tuple[str, str]]], col: str) -> str:
    """One dtype for the column: int + float -> float; anything + object -> object."""
    dtypes = {d[col][1] for d in declarations.values()}
    if len(dtypes) == 1:
        return dtypes.pop()
    return "float" if dtypes <= {"int", "float"} else "object"


def merge_declarations(
    declarations: Mapping[str, Mapping[str, tuple[str, str]]], label: str
) -> TableSchema:
    """Agree one schema from every party's declaration.

    Kinds must agree; dtypes widen (int + float -> float; anything + object -> object).

    Raises:
        SchemaMismatchError: a party lacks a column another party has, or kinds disagree.
    """
    if not declarations:
        raise InvalidDataError("no parties given")
    parties = list(declarations)
    all_columns = _all_columns(declarations)
    for party in parties:
        for col in all_columns:
            if col not in declarations[party]:
                raise SchemaMismatchError("party is missing a column other parties have",
                                          party=party, column=col)
    specs = [ColumnSpec(col, _agreed_kind(declarations, col), _widened_dtype(declarations, col))
             for col in all_columns]
    return TableSchema(tuple(specs), label)


def validate_table(party: str, df: pd.DataFrame, schema: TableSchema) -> pd.DataFrame:
    """Check a party's table against the agreed schema; return it in schema column order.

    Raises:
        SchemaMismatchError: missing or extra column.
        InvalidDataError: non-numeric value, NaN or infinity in a continuous column; a column
            that is entirely null.
    """
    extra = [c for c in df.columns if c not in schema.names]
    if extra:
        raise SchemaMismatchError("column is not in the shared schema", party=party,
                                  column=str(extra[0]))
    for col in schema.names:
        if col not in df.columns:
            raise SchemaMismatchError("column is missing", party=party, column=col)
    out = df[schema.names].copy()
    for spec in schema.columns:
        s = out[spec.name]
        if s.isna().all():
            raise InvalidDataError("column is entirely null", party=party, column=spec.name)
        if spec.kind != CONTINUOUS:
            continue
        numeric = pd.to_numeric(s, errors="coerce")
        bad = numeric.isna() & s.notna()
        if bad.any():
            raise InvalidDataError("non-numeric value in a continuous column", party=party,
                                   column=spec.name, value=s[bad].iloc[0])
        if numeric.isna().any():
            raise InvalidDataError("missing value (NaN) in a continuous column", party=party,
                                   column=spec.name, value=float("nan"))
        values = numeric.to_numpy(dtype=np.float64)
        if not np.isfinite(values).all():
            raise InvalidDataError("infinite value in a continuous column", party=party,
                                   column=spec.name, value=float(values[~np.isfinite(values)][0]))
        out[spec.name] = values
    return out
