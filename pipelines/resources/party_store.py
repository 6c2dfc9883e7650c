"""Each party's private storage: its raw, validated and quarantined rows as Parquet files.

Layout: ``<root>/<party>/raw.parquet``, ``validated.parquet`` and ``quarantine.parquet``. Files are
written to a temporary name in the same folder and moved into place with ``os.replace``, so a reader
never sees half a file and a failed write leaves the previous version intact.

Ingest streams: :meth:`PartyStore.writer` appends chunks to a table (one Parquet row group per
chunk) and :meth:`PartyStore.open` reads one back chunk by chunk, so neither holds a whole table.
``read_*`` still return the whole table, for the consumers that need it (training).
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pyarrow as pa
from pydantic import Field

from dagan_core.errors import InvalidDataError
from pipelines import settings
from pipelines.chunked_tables import ChunkedTable, TableWriter

logger = logging.getLogger(__name__)

_PARTY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")

RAW = "raw"
VALIDATED = "validated"
QUARANTINE = "quarantine"
TABLES = (RAW, VALIDATED, QUARANTINE)


def check_party_name(party: str) -> str:
    """Return ``party`` if it is a safe folder name and partition key, else raise."""
    if not isinstance(party, str) or not _PARTY_NAME.match(party) or ".." in party:
        raise InvalidDataError(
            "a party name must start with a letter or digit and hold only letters, digits, "
            "'_', '-' and '.' (at most 128 characters)",
            party=str(party),
        )
    return party


def write_parquet_atomic(df: pd.DataFrame, path: Path) -> None:
    """Write ``df`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        df.to_parquet(tmp_name, index=False)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


class PartyStore(dg.ConfigurableResource):
    """Per-party private storage of raw, validated and quarantined rows (Parquet).

    Only the code that runs for a party reads that party's folder; nothing here is shared
    between parties.
    """

    root: str | None = Field(
        default=None,
        description="Root folder of the party stores; defaults to settings.party_store_dir().",
    )

    @property
    def root_path(self) -> Path:
        return Path(self.root) if self.root else settings.party_store_dir()

    def table_path(self, party: str, table: str) -> Path:
        """Path of one of a party's tables (``raw``, ``validated`` or ``quarantine``)."""
        if table not in TABLES:
            raise ValueError(f"unknown party table {table!r}; expected one of {TABLES}")
        return self.root_path / check_party_name(party) / f"{table}.parquet"

    def _write(self, party: str, table: str, df: pd.DataFrame) -> Path:
        path = self.table_path(party, table)
        write_parquet_atomic(df.reset_index(drop=True), path)
        logger.debug("wrote %d rows to %s", len(df), path)
        return path

    def _read(self, party: str, table: str) -> pd.DataFrame:
        path = self.table_path(party, table)
        if not path.is_file():
            raise FileNotFoundError(
                f"party {party!r} has no {table} table at {path}; materialize it first"
            )
        return pd.read_parquet(path)

    def write_raw(self, party: str, df: pd.DataFrame) -> Path:
        return self._write(party, RAW, df)

    def read_raw(self, party: str) -> pd.DataFrame:
        return self._read(party, RAW)

    def write_validated(self, party: str, df: pd.DataFrame) -> Path:
        return self._write(party, VALIDATED, df)

    def read_validated(self, party: str) -> pd.DataFrame:
        return self._read(party, VALIDATED)

    def read_quarantine(self, party: str) -> pd.DataFrame:
        return self._read(party, QUARANTINE)

    def open(self, party: str, table: str, chunk_rows: int | None = None) -> ChunkedTable:
        """One of the party's tables, to be read chunk by chunk (its row count is known)."""
        path = self.table_path(party, table)
        if not path.is_file():
            raise FileNotFoundError(
                f"party {party!r} has no {table} table at {path}; materialize it first"
            )
        return ChunkedTable.from_parquet(path, chunk_rows)

    def writer(
        self,
        party: str,
        table: str,
        types: Mapping[str, pa.DataType] | None = None,
        attrs: Mapping[str, Any] | None = None,
        empty: pd.DataFrame | None = None,
    ) -> TableWriter:
        """A writer that replaces one of the party's tables on ``commit`` (see TableWriter)."""
        return TableWriter(self.table_path(party, table), types=types, attrs=attrs, empty=empty)

    def has_table(self, party: str, table: str) -> bool:
        return self.table_path(party, table).is_file()

    def parties(self) -> list[str]:
        """Parties that have at least one stored table, sorted."""
        root = self.root_path
        if not root.is_dir():
            return []
        return sorted(
            p.name
            for p in root.iterdir()
            if p.is_dir()
            and _PARTY_NAME.match(p.name)
            and any((p / f"{t}.parquet").is_file() for t in TABLES)
        )
