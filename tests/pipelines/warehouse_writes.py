"""Warehouse operations the tests use to set up and inspect tables (the pipeline itself writes
only through ``Warehouse.publish`` and reads through its readers)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipelines.resources import warehouse_sql
from pipelines.resources.warehouse import Warehouse
from pipelines.resources.warehouse_writer import WarehouseWriter


def replace_partition(
    warehouse: Warehouse,
    table: str,
    df: pd.DataFrame,
    key_column: str,
    key_value: str,
    schema: str = "main",
    comment: str | None = None,
) -> int:
    """One write cycle of :meth:`WarehouseWriter.replace_partition`."""
    return warehouse.publish(
        lambda w: w.replace_partition(table, df, key_column, key_value, schema, comment)
    )


def write_table(
    w: WarehouseWriter, table: str, df: pd.DataFrame, schema: str = "main",
    comment: str | None = None,
) -> int:
    """Inside a write cycle: create or replace ``schema.table`` with the rows of ``df``."""
    w.ensure_schema(schema)
    w.con.register("_test_incoming", df)
    try:
        w.con.execute(
            f"CREATE OR REPLACE TABLE {warehouse_sql.qualified(schema, table)} AS "
            "SELECT * FROM _test_incoming"
        )
    finally:
        w.con.unregister("_test_incoming")
    if comment:
        w.comment_on(table, comment, schema=schema)
    return len(df)


def create_table_as(
    warehouse: Warehouse, table: str, select_sql: str, schema: str = "main",
    comment: str | None = None,
) -> int:
    """One write cycle of :meth:`WarehouseWriter.create_table_as`."""
    return warehouse.publish(lambda w: w.create_table_as(table, select_sql, schema, comment))


def comment_on(
    warehouse: Warehouse, table: str, comment: str, schema: str = "main",
    column: str | None = None,
) -> None:
    """One write cycle of :meth:`WarehouseWriter.comment_on`."""
    warehouse.publish(lambda w: w.comment_on(table, comment, schema, column))


def columns(warehouse: Warehouse, table: str, schema: str = "main") -> list[tuple[Any, ...]]:
    """``(name, type)`` of each column of ``schema.table`` in the published snapshot."""
    with warehouse.read_only_connection() as con:
        return warehouse_sql.table_columns(con, table, schema, ("column_name", "data_type"))


def table_exists(warehouse: Warehouse, table: str, schema: str = "main") -> bool:
    """Whether ``schema.table`` exists in the published snapshot (False before any publish)."""
    if not warehouse.file.exists():
        return False
    with warehouse.read_only_connection() as con:
        return warehouse_sql.table_exists(con, table, schema)
