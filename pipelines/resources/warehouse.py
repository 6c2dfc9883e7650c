"""The shared DuckDB warehouse, published copy-on-write so readers and writers never contend.

DuckDB allows one read-write process *or* any number of read-only processes per database file.
Analysts keep read-only sessions open on the warehouse, so the pipeline never opens a published
file for writing. Every write is one *write cycle*
(:mod:`pipelines.resources.warehouse_publishing`): under an exclusive ``flock`` on
``<warehouse>.lock`` it copies the pipeline's own master file, applies the change to the copy,
writes the result as a new *generation* file (mode 0444) and moves the published link
``<warehouse>`` onto it. The files and what happens to a published file that someone opened
read-write are described in :mod:`pipelines.resources.warehouse_files`.

A reader that is already connected keeps the snapshot it opened (it holds the old file); a new
connection, even a plain ``duckdb.connect(path, read_only=True)`` made in a process that still
holds an older one, opens the new generation: duckdb caches database instances by the file the
link resolves to, and every publish writes a new file. Verified against duckdb 2.0.0 in
tests/pipelines/test_warehouse.py.

What a cycle can change is :class:`~pipelines.resources.warehouse_writer.WarehouseWriter`;
shared SQL text and catalog queries are :mod:`pipelines.resources.warehouse_sql`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import dagster as dg
import duckdb
import pandas as pd
from pydantic import Field

from pipelines import settings
from pipelines.resources.warehouse_files import Layout, foreign_write
from pipelines.resources.warehouse_publishing import copy_on_write
from pipelines.resources.warehouse_sql import (
    catalog_name,
    qualified,
    quote_ident,
    quote_literal,
    table_columns,
)
from pipelines.resources.warehouse_staging import Staged, read_staged, stage, unstage
from pipelines.resources.warehouse_writer import (
    SchemaMismatchError,
    WarehouseWriter,
    check_same_columns,
    check_single_key,
)

__all__ = ["SchemaMismatchError", "Staged", "Warehouse", "WarehouseWriter"]

T = TypeVar("T")
logger = logging.getLogger(__name__)


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

    # ------------------------------------------------------------------ staging
    def stage_partition(
        self, table: str, df: pd.DataFrame, key_column: str, key_value: str, schema: str = "main"
    ) -> int:
        """Stage one key's rows of ``schema.table``, unpublished, until a write cycle publishes
        them with :meth:`WarehouseWriter.replace_partition` (see
        :mod:`pipelines.resources.warehouse_staging`). Returns the row count.

        Raises:
            ValueError: if ``df`` lacks ``key_column`` or holds another key's rows.
            SchemaMismatchError: if the published table has other columns (nothing is staged).
        """
        check_single_key(df, key_column, key_value, f"{schema}.{table}")
        if self.file.exists():
            with self.read_only_connection() as con:
                published = [r[0] for r in table_columns(con, table, schema)]
            if published:
                check_same_columns(published, list(df.columns), f"{schema}.{table}",
                                   f"{key_column} {key_value!r}")
        stage(Layout(self.file), schema, table, df, key_value)
        return len(df)

    def staged_partition(self, table: str, key_value: str, schema: str = "main") -> Staged | None:
        """The staged, unpublished rows of one key of ``schema.table`` (None: none staged)."""
        return read_staged(Layout(self.file), schema, table, key_value)

    def unstage(self, staged: Staged) -> bool:
        """Drop a staged partition after its rows were published (kept if staged again since)."""
        return unstage(staged)

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
        current = Layout(self.file).current()
        if current is not None and foreign_write(Layout(self.file), current):
            self._try_restore()  # a read-write session left its traces: set them aside
        try:
            return self._attach()
        except duckdb.IOException as err:
            if "WAL" not in str(err) and "lock" not in str(err):
                raise
        self._try_restore()
        return self._attach()

    def _try_restore(self) -> None:
        try:
            self.restore()
        except OSError as err:  # e.g. a reader without write access to the warehouse folder
            logger.warning("could not republish the warehouse %s: %s", self.file, err)

    def _attach(self) -> duckdb.DuckDBPyConnection:
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

    def restore(self) -> None:
        """Republish the pipeline's own copy unchanged; a published file that was written outside
        the pipeline is set aside (kept, and named in a warning), never deleted."""
        with self.write_cycle():
            pass

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
