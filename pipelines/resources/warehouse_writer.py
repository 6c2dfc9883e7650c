"""What a write cycle of the warehouse can do to its private copy (see
:mod:`pipelines.resources.warehouse_publishing`): replace one partition's rows (never changing the
table's columns), build a table from a query, set table and column COMMENTs."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

import duckdb
import pandas as pd

from pipelines.resources.warehouse_sql import (
    column_names,
    qualified,
    quote_ident,
    quote_literal,
    table_exists,
)

_INCOMING = "_dagan_incoming"


class WarehouseWriter:
    """Operations available inside one write cycle (all on the private copy of the warehouse)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def ensure_schema(self, schema: str) -> None:
        """``CREATE SCHEMA IF NOT EXISTS``."""
        self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")

    def replace_partition(
        self,
        table: str,
        df: pd.DataFrame,
        key_column: str,
        key_value: str,
        schema: str = "main",
        comment: str | None = None,
    ) -> int:
        """Replace exactly the rows of ``schema.table`` whose ``key_column`` equals ``key_value``.

        Deletes that key's rows, then inserts ``df`` by column name, in one transaction, so
        re-materialising a partition is idempotent and other keys' rows are untouched. The table is
        created from ``df`` on first use; after that ``df`` must have the table's columns (in any
        order): a table never mixes schemas.

        Raises:
            ValueError: if ``df`` lacks ``key_column`` or holds another key's rows.
            SchemaMismatchError: if ``df``'s columns are not the table's, naming both sides.
        """
        check_single_key(df, key_column, key_value, f"{schema}.{table}")
        self.ensure_schema(schema)
        target = qualified(schema, table)
        self.con.register(_INCOMING, df)
        try:
            self.con.execute("BEGIN TRANSACTION")
            if not table_exists(self.con, table, schema):
                self.con.execute(f"CREATE TABLE {target} AS SELECT * FROM {_INCOMING} LIMIT 0")
            check_same_columns(column_names(self.con, table, schema), list(df.columns),
                               f"{schema}.{table}", f"{key_column} {key_value!r}")
            self.con.execute(
                f"DELETE FROM {target} WHERE CAST({quote_ident(key_column)} AS VARCHAR) = ?",
                [str(key_value)],
            )
            self.con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM {_INCOMING}")
            self.con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                self.con.execute("ROLLBACK")
            raise
        finally:
            self.con.unregister(_INCOMING)
        if comment:
            self.comment_on(table, comment, schema=schema)
        return len(df)

    def create_table_as(
        self, table: str, select_sql: str, schema: str = "main", comment: str | None = None
    ) -> int:
        """``CREATE OR REPLACE TABLE schema.table AS <select_sql>``; returns the row count."""
        self.ensure_schema(schema)
        body = select_sql.strip().rstrip(";")
        self.con.execute(f"CREATE OR REPLACE TABLE {qualified(schema, table)} AS\n{body}")
        if comment:
            self.comment_on(table, comment, schema=schema)
        row = self.con.execute(f"SELECT count(*) FROM {qualified(schema, table)}").fetchone()
        return int(row[0]) if row else 0

    def comment_on(
        self, table: str, comment: str, schema: str = "main", column: str | None = None
    ) -> None:
        """Set the COMMENT of a table (or of one of its columns)."""
        if column is None:
            target = f"TABLE {qualified(schema, table)}"
        else:
            target = f"COLUMN {qualified(schema, table)}.{quote_ident(column)}"
        self.con.execute(f"COMMENT ON {target} IS {quote_literal(comment)}")

    def comment_columns(
        self, table: str, comments: Mapping[str, str], schema: str = "main"
    ) -> list[str]:
        """COMMENT ON each column of ``schema.table`` that ``comments`` describes.

        Returns the table's columns that ``comments`` does not describe (they keep no comment).
        """
        columns = column_names(self.con, table, schema)
        for column in columns:
            if comments.get(column):
                self.comment_on(table, comments[column], schema=schema, column=column)
        return [c for c in columns if not comments.get(c)]


class SchemaMismatchError(ValueError):
    """Rows whose columns are not those of the warehouse table they were meant for."""


def check_same_columns(table_columns: list[str], incoming: list[str], table: str,
                       what: str) -> None:
    """Refuse rows whose column names differ from the table's (order does not matter).

    Raises:
        SchemaMismatchError: naming the missing and the unexpected columns.
    """
    missing = [c for c in table_columns if c not in incoming]
    extra = [c for c in incoming if c not in table_columns]
    if missing or extra:
        raise SchemaMismatchError(
            f"{table}: the rows of {what} do not have the table's columns: missing "
            f"{missing}, not in the table {extra} (the table has {len(table_columns)} columns, "
            f"the rows {len(incoming)}). A table holds one schema: nothing was published. Give "
            "this dataset its own warehouse (or schema), or drop the table to start it afresh"
        )


def check_single_key(df: pd.DataFrame, key_column: str, key_value: str, name: str) -> None:
    if key_column not in df.columns:
        raise ValueError(f"{name}: frame has no key column {key_column!r}")
    values = set(df[key_column].astype(str).unique())
    if values - {str(key_value)}:
        raise ValueError(
            f"{name}: frame holds rows of {sorted(values - {str(key_value)})} "
            f"in key column {key_column!r}; expected only {key_value!r}"
        )
