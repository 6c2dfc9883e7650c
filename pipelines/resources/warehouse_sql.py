"""SQL text and catalog queries shared by the warehouse's writers and readers (DuckDB)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pandas as pd


def quote_ident(name: str) -> str:
    """Quote one SQL identifier for DuckDB."""
    return '"' + str(name).replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """Quote one SQL string literal for DuckDB."""
    return "'" + str(value).replace("'", "''") + "'"


def qualified(schema: str, table: str) -> str:
    """``"schema"."table"``."""
    return f"{quote_ident(schema)}.{quote_ident(table)}"


def catalog_name(path: Path) -> str:
    """The catalog name a plain ``duckdb.connect(path)`` would give the file (its stem)."""
    return re.sub(r"\W", "_", path.name.split(".")[0]) or "warehouse"


#: Fields of ``duckdb_columns()`` that :func:`table_columns` may return.
COLUMN_FIELDS = ("column_name", "data_type", "comment")


def table_columns(
    con: duckdb.DuckDBPyConnection,
    table: str,
    schema: str = "main",
    fields: Sequence[str] = ("column_name",),
) -> list[tuple[Any, ...]]:
    """``fields`` of each column of ``schema.table`` in the connection's current database, in
    column order (empty when the table does not exist)."""
    unknown = [f for f in fields if f not in COLUMN_FIELDS]
    if unknown or not fields:
        raise ValueError(f"fields {list(fields)} must be some of {COLUMN_FIELDS}")
    return con.execute(
        f"SELECT {', '.join(fields)} FROM duckdb_columns() WHERE database_name = "
        "current_database() AND schema_name = ? AND table_name = ? ORDER BY column_index",
        [schema, table],
    ).fetchall()


def column_names(con: duckdb.DuckDBPyConnection, table: str, schema: str = "main") -> list[str]:
    """The column names of ``schema.table``, in order."""
    return [row[0] for row in table_columns(con, table, schema)]


def table_exists(con: duckdb.DuckDBPyConnection, table: str, schema: str = "main") -> bool:
    """Whether ``schema.table`` exists in the connection's current database."""
    row = con.execute(
        "SELECT count(*) FROM duckdb_tables() "
        "WHERE database_name = current_database() AND schema_name = ? AND table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(row and row[0])


def frame_schema(df: pd.DataFrame, comments: dict[str, str]) -> dg.TableSchema:
    """``dg.TableSchema`` of the table ``df`` would make in DuckDB (types as DuckDB names them)."""
    con = duckdb.connect(":memory:")
    try:
        con.register("_frame", df)
        rows = con.execute("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM _frame)"
                           ).fetchall()
    finally:
        con.close()
    return dg.TableSchema(
        columns=[dg.TableColumn(n, t, description=comments.get(n) or None) for n, t in rows]
    )
