"""The shared DuckDB warehouse, published copy-on-write so readers and writers never contend.

DuckDB allows one read-write process *or* any number of read-only processes per database file.
Analysts keep read-only sessions open on the warehouse, so the pipeline never opens the published
file for writing. Every write is one *write cycle*:

1. take an exclusive ``flock`` on ``<warehouse>.lock`` (serialises writers across processes and
   threads; two partitions materialising in parallel simply queue);
2. copy the published file to a fresh temporary file in the same folder;
3. open the copy read-write, apply the change, ``CHECKPOINT`` (no WAL left behind), close;
4. ``os.replace`` the copy onto the published path (atomic on POSIX), release the lock.

The cycle itself is :mod:`pipelines.resources.warehouse_publishing`; what a cycle can change is
:class:`~pipelines.resources.warehouse_writer.WarehouseWriter`; shared SQL text and catalog
queries are :mod:`pipelines.resources.warehouse_sql`.

A reader that is already connected keeps the snapshot it opened (it holds the old inode); a new
connection sees the new file. Verified against duckdb 2.0.0 in tests/pipelines/test_warehouse.py.

Caveat: the duckdb Python client caches database instances by path inside one process, so a
second plain ``duckdb.connect(path, read_only=True)`` made while an older one is still open in the
same process returns the *old* snapshot. :meth:`Warehouse.read_only_connection` avoids that by
attaching the file read-only to a fresh in-memory instance each time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import dagster as dg
import duckdb
import pandas as pd
from pydantic import Field

from pipelines import settings
from pipelines.resources.warehouse_publishing import copy_on_write
from pipelines.resources.warehouse_sql import (
    catalog_name,
    qualified,
    quote_ident,
    quote_literal,
    table_columns,
)
from pipelines.resources.warehouse_writer import WarehouseWriter

__all__ = ["Warehouse", "WarehouseWriter"]

T = TypeVar("T")


class Warehouse(dg.ConfigurableResource):
    """The analysts' DuckDB warehouse (one file), written copy-on-write under a file lock."""

    path: str | None = Field(
        default=None,
        description="DuckDB file of the warehouse; default: settings.warehouse_path() "
        "(DAGAN_VAR_DIR/warehouse/dagan_warehouse.duckdb).",
    )
    lock_timeout_s: float = Field(
        default=1800.0, description="How long a writer waits for another writer's cycle."
    )

    @property
    def file(self) -> Path:
        """Resolved path of the published warehouse file."""
        return Path(self.path) if self.path else settings.warehouse_path()

    # ------------------------------------------------------------------ writing
    @contextlib.contextmanager
    def write_cycle(self) -> Iterator[WarehouseWriter]:
        """One locked copy-on-write cycle; the change is published only if the block succeeds."""
        with copy_on_write(self.file, self.lock_timeout_s) as con:
            yield WarehouseWriter(con)

    def publish(self, fn: Callable[[WarehouseWriter], T]) -> T:
        """Run ``fn(writer)`` inside one write cycle and publish its changes; returns its result."""
        with self.write_cycle() as writer:
            return fn(writer)

    # ------------------------------------------------------------------ reading
    def read_only_connection(self) -> duckdb.DuckDBPyConnection:
        """A fresh read-only connection on the current published snapshot.

        The file is attached read-only to a new in-memory instance (named like the file's stem and
        set as the default catalog), so unqualified ``schema.table`` names work and the snapshot is
        never an older one cached in this process. Close it (or use it as a context manager).

        Raises:
            FileNotFoundError: if nothing was published yet.
        """
        if not self.file.exists():
            raise FileNotFoundError(f"no warehouse published yet at {self.file}")
        con = duckdb.connect(":memory:")
        try:
            con.execute(
                f"ATTACH {quote_literal(str(self.file))} AS {catalog_name(self.file)} (READ_ONLY)"
            )
            con.execute(f"USE {catalog_name(self.file)}")
        except BaseException:
            con.close()
            raise
        return con

    def query(self, sql: str, parameters: Sequence[Any] | None = None) -> pd.DataFrame:
        """Run one read-only query on the published snapshot and return a DataFrame."""
        with self.read_only_connection() as con:
            cur = con.execute(sql, parameters) if parameters is not None else con.execute(sql)
            return cur.df()

    def table_schema(self, table: str, schema: str = "main") -> dg.TableSchema:
        """``dg.TableSchema`` of ``schema.table`` as published: column types and COMMENTs."""
        with self.read_only_connection() as con:
            rows = table_columns(con, table, schema, ("column_name", "data_type", "comment"))
        return dg.TableSchema(
            columns=[dg.TableColumn(n, t, description=c or None) for n, t, c in rows]
        )

    def preview(self, table: str, schema: str = "main", limit: int = 20) -> pd.DataFrame:
        """The first ``limit`` rows of ``schema.table``."""
        return self.query(f"SELECT * FROM {qualified(schema, table)} LIMIT {int(limit)}")

    def read_partition(
        self, table: str, key_column: str, key_value: str, schema: str = "main"
    ) -> pd.DataFrame:
        """Rows of ``schema.table`` whose ``key_column`` equals ``key_value``."""
        return self.query(
            f"SELECT * FROM {qualified(schema, table)} "
            f"WHERE CAST({quote_ident(key_column)} AS VARCHAR) = ?",
            [str(key_value)],
        )
