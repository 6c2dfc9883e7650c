"""A party's validated table read one column at a time, and the party summary computed from it.

The summary needs every value of a column (a mixture fit, category counts) but never two columns
at once, so memory holds one column of the table, not the whole table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from dagan_core.data.schema import TableSchema, validate_table
from dagan_core.data.summary import PartySummary, summarize_party
from dagan_core.prepare import agree_schema, party_schema
from pipelines.chunked_tables import ChunkedTable


class StoredColumns:
    """The columns of a stored table, each read whole on access (``view[name]``)."""

    def __init__(self, table: ChunkedTable) -> None:
        self.table = table
        self.columns = list(table.columns)

    def __len__(self) -> int:
        return len(self.table)

    def __getitem__(self, name: str) -> pd.Series:
        parts = [chunk[name] for chunk in self.table.chunks([name])]
        return pd.concat(parts, ignore_index=True) if parts else pd.Series([], name=name)

    def head(self) -> pd.DataFrame:
        """The first chunk (column kinds and dtypes are read from it); empty if the table is."""
        first = next(iter(self.table.chunks()), None)
        return pd.DataFrame(columns=self.columns) if first is None else first


def declared_schema(
    party: str, view: StoredColumns, label: str, discrete_columns: Sequence[str]
) -> tuple[dict[str, list[str]], TableSchema]:
    """What the party declares about its columns (name -> [kind, dtype]) and its own schema.

    Raises:
        InvalidDataError: naming the party, for a table with fewer than 2 rows, a missing label
            or discrete column.
    """
    declared = party_schema(party, view.head(), label, list(discrete_columns))
    return {c: list(v) for c, v in declared.items()}, agree_schema({party: declared}, label)


def summarize_stored(
    party: str, view: StoredColumns, schema: TableSchema, max_modes: int, seed: int
) -> PartySummary:
    """The party's summary, with each column checked against the schema as ``fit`` checks it."""
    checked = _CheckedColumns(party, view, schema)
    return summarize_party(party, checked, schema, max_modes, seed)  # type: ignore[arg-type]


class _CheckedColumns:
    """Columns validated one at a time against their spec (values cast as ``fit`` casts them)."""

    def __init__(self, party: str, view: StoredColumns, schema: TableSchema) -> None:
        self.party, self.view, self.schema = party, view, schema

    def __len__(self) -> int:
        return len(self.view)

    def __getitem__(self, name: str) -> Any:
        one = TableSchema((self.schema.spec(name),), self.schema.label)
        return validate_table(self.party, self.view[name].to_frame(name), one)[name]
