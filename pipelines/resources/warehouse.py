"""The shared DuckDB warehouse, published copy-on-write so readers and writers never contend.

DuckDB allows one read-write process *or* any number of read-only processes per database file.
Analysts keep read-only sessions open on the warehouse, so the pipeline never opens the published
file for writing. Every write is one *write cycle*:

1. take an exclusive ``flock`` on ``<warehouse>.lock`` (serialises writers across processes and
   threads; two partitions materialising in parallel simply queue);
2. copy the published file to a fresh temporary file in the same folder;
3. open the copy read-write, apply the change, ``CHECKPOINT`` (no WAL left behind), close;
4. ``os.replace`` the copy onto the published path (atomic on POSIX), release the lock.

A reader that is already connected keeps the snapshot it opened (it holds the old inode); a new
connection sees the new file. Verified against duckdb 2.0.0 in tests/pipelines/test_warehouse.py.

Caveat: the duckdb Python client caches database instances by path inside one process, so a
second plain ``duckdb.connect(path, read_only=True)`` made while an older one is still open in the
same process returns the *old* snapshot. :meth:`Warehouse.read_only_connection` avoids that by
attaching the file read-only to a fresh in-memory instance each time.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import dagster as dg
import duckdb
import pandas as pd
from pydantic import Field

from pipelines import settings

T = TypeVar("T")

logger = logging.getLogger(__name__)

_TMP_MARK = ".writing-"
_process_lock = threading.Lock()  # flock already serialises threads; this keeps waits cheap


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


class WarehouseWriter:
    """Operations available inside one write cycle (all on the private copy of the warehouse)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def execute(
        self, sql: str, parameters: Sequence[Any] | None = None
    ) -> duckdb.DuckDBPyConnection:
        """Run one statement on the copy."""
        if parameters is None:
            return self.con.execute(sql)
        return self.con.execute(sql, parameters)

    def ensure_schema(self, schema: str) -> None:
        """``CREATE SCHEMA IF NOT EXISTS``."""
        self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")

    def table_exists(self, table: str, schema: str = "main") -> bool:
        """Whether ``schema.table`` exists in the copy."""
        row = self.con.execute(
            "SELECT count(*) FROM duckdb_tables() "
            "WHERE database_name = current_database() AND schema_name = ? AND table_name = ?",
            [schema, table],
        ).fetchone()
        return bool(row and row[0])

    def write_table(
        self, table: str, df: pd.DataFrame, schema: str = "main", comment: str | None = None
    ) -> int:
        """Create or replace ``schema.table`` with the rows of ``df``; returns the row count."""
        self.ensure_schema(schema)
        self.con.register("_dagan_incoming", df)
        try:
            self.con.execute(
                f"CREATE OR REPLACE TABLE {qualified(schema, table)} AS "
                "SELECT * FROM _dagan_incoming"
            )
        finally:
            self.con.unregister("_dagan_incoming")
        if comment:
            self.comment_on(table, comment, schema=schema)
        return len(df)

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
        created from ``df`` on first use; columns new in ``df`` are added (older rows get NULL).

        Raises:
            ValueError: if ``df`` lacks ``key_column`` or holds another key's rows.
        """
        if key_column not in df.columns:
            raise ValueError(f"{schema}.{table}: frame has no key column {key_column!r}")
        values = set(df[key_column].astype(str).unique())
        if values - {str(key_value)}:
            raise ValueError(
                f"{schema}.{table}: frame holds rows of {sorted(values - {str(key_value)})} "
                f"in key column {key_column!r}; expected only {key_value!r}"
            )
        self.ensure_schema(schema)
        target = qualified(schema, table)
        self.con.register("_dagan_incoming", df)
        try:
            self.con.execute("BEGIN TRANSACTION")
            if not self.table_exists(table, schema):
                self.con.execute(f"CREATE TABLE {target} AS SELECT * FROM _dagan_incoming LIMIT 0")
            existing = {
                r[0]
                for r in self.con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE database_name = "
                    "current_database() AND schema_name = ? AND table_name = ?",
                    [schema, table],
                ).fetchall()
            }
            for name, dtype in self.con.execute(
                "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM _dagan_incoming)"
            ).fetchall():
                if name not in existing:
                    self.con.execute(f"ALTER TABLE {target} ADD COLUMN {quote_ident(name)} {dtype}")
            self.con.execute(
                f"DELETE FROM {target} WHERE CAST({quote_ident(key_column)} AS VARCHAR) = ?",
                [str(key_value)],
            )
            self.con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM _dagan_incoming")
            self.con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                self.con.execute("ROLLBACK")
            raise
        finally:
            self.con.unregister("_dagan_incoming")
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
        columns = [
            r[0]
            for r in self.con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
                "AND schema_name = ? AND table_name = ? ORDER BY column_index",
                [schema, table],
            ).fetchall()
        ]
        for column in columns:
            if comments.get(column):
                self.comment_on(table, comments[column], schema=schema, column=column)
        return [c for c in columns if not comments.get(c)]


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

    @property
    def lock_file(self) -> Path:
        """The lock file that serialises write cycles."""
        return self.file.with_name(self.file.name + ".lock")

    # ------------------------------------------------------------------ writing
    @contextlib.contextmanager
    def write_cycle(self) -> Iterator[WarehouseWriter]:
        """One locked copy-on-write cycle; the change is published only if the block succeeds."""
        published = self.file
        published.parent.mkdir(parents=True, exist_ok=True)
        with self._exclusive_lock():
            self._remove_stale_copies()
            tmp = published.with_name(f"{published.name}{_TMP_MARK}{uuid.uuid4().hex}")
            if published.exists():
                shutil.copyfile(published, tmp)
            con = duckdb.connect(":memory:")
            ok = False
            try:
                con.execute(f"ATTACH {quote_literal(str(tmp))} AS {catalog_name(published)}")
                con.execute(f"USE {catalog_name(published)}")
                yield WarehouseWriter(con)
                con.execute("CHECKPOINT")
                ok = True
            finally:
                con.close()
                if ok:
                    _fsync(tmp)
                    os.replace(tmp, published)
                    _fsync(published.parent)
                else:
                    _remove(tmp)
                _remove(Path(str(tmp) + ".wal"))

    def publish(self, fn: Callable[[WarehouseWriter], T]) -> T:
        """Run ``fn(writer)`` inside one write cycle and publish its changes; returns its result."""
        with self.write_cycle() as writer:
            return fn(writer)

    def replace_partition(
        self,
        table: str,
        df: pd.DataFrame,
        key_column: str,
        key_value: str,
        schema: str = "main",
        comment: str | None = None,
    ) -> int:
        """One cycle of :meth:`WarehouseWriter.replace_partition`."""
        return self.publish(
            lambda w: w.replace_partition(table, df, key_column, key_value, schema, comment)
        )

    def write_table(
        self, table: str, df: pd.DataFrame, schema: str = "main", comment: str | None = None
    ) -> int:
        """One cycle of :meth:`WarehouseWriter.write_table`."""
        return self.publish(lambda w: w.write_table(table, df, schema, comment))

    def create_table_as(
        self, table: str, select_sql: str, schema: str = "main", comment: str | None = None
    ) -> int:
        """One cycle of :meth:`WarehouseWriter.create_table_as`."""
        return self.publish(lambda w: w.create_table_as(table, select_sql, schema, comment))

    def comment_on(
        self, table: str, comment: str, schema: str = "main", column: str | None = None
    ) -> None:
        """One cycle of :meth:`WarehouseWriter.comment_on`."""
        self.publish(lambda w: w.comment_on(table, comment, schema, column))

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

    def table_exists(self, table: str, schema: str = "main") -> bool:
        """Whether ``schema.table`` exists in the published snapshot."""
        if not self.file.exists():
            return False
        with self.read_only_connection() as con:
            return WarehouseWriter(con).table_exists(table, schema)

    def columns(self, table: str, schema: str = "main") -> list[tuple[str, str]]:
        """``(name, type)`` of each column of ``schema.table`` in the published snapshot."""
        with self.read_only_connection() as con:
            return con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = "
                "current_database() AND schema_name = ? AND table_name = ? ORDER BY column_index",
                [schema, table],
            ).fetchall()

    def table_schema(self, table: str, schema: str = "main") -> dg.TableSchema:
        """``dg.TableSchema`` of ``schema.table`` as published: column types and COMMENTs."""
        with self.read_only_connection() as con:
            rows = con.execute(
                "SELECT column_name, data_type, comment FROM duckdb_columns() WHERE database_name "
                "= current_database() AND schema_name = ? AND table_name = ? ORDER BY column_index",
                [schema, table],
            ).fetchall()
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

    # ------------------------------------------------------------------ internals
    @contextlib.contextmanager
    def _exclusive_lock(self) -> Iterator[None]:
        deadline = time.monotonic() + self.lock_timeout_s
        with _process_lock, open(self.lock_file, "a+") as handle:
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise TimeoutError(
                            f"another writer held {self.lock_file} for over "
                            f"{self.lock_timeout_s:.0f}s"
                        ) from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _remove_stale_copies(self) -> None:
        """Copies left by a writer that died mid-cycle (only the lock holder may write copies)."""
        for stale in self.file.parent.glob(f"{self.file.name}{_TMP_MARK}*"):
            logger.warning("removing stale warehouse copy %s", stale)
            _remove(stale)


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _fsync(path: Path) -> None:
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
