"""Tables read and written chunk by chunk, so that memory holds one chunk, not the table.

- :class:`ChunkedTable`: a table that can be read (several times) in chunks of at most
  ``chunk_rows`` rows: a Parquet file (one record batch at a time) or a frame already in memory.
  It has ``len()`` and ``attrs`` like a ``DataFrame``, so code that only needs those accepts both.
- :class:`TableWriter`: appends chunks to a Parquet file under a temporary name in the target's
  folder and moves it into place with ``os.replace`` on :meth:`TableWriter.commit`; a writer left
  without a commit (an error, a schema failure found late) removes its temporary file and leaves
  the previous version of the table as it was.

Only pandas and pyarrow are imported here (no Dagster, no GX).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines import settings

#: Schema metadata key under which pandas keeps ``DataFrame.attrs`` in a Parquet file.
ATTRS_KEY = b"PANDAS_ATTRS"


def chunk_rows(rows: int | None = None) -> int:
    """``rows`` if given, else the configured rows per ingest chunk."""
    return int(rows) if rows else settings.ingest_chunk_rows()


class ChunkedTable:
    """A table read in chunks of at most ``chunk_rows`` rows, each with a fresh 0-based index."""

    def __init__(
        self,
        rows: int,
        dtypes: Mapping[str, Any],
        attrs: Mapping[str, Any],
        read: Callable[[list[str] | None, int], Iterator[pd.DataFrame]],
        chunk_rows: int | None = None,
    ) -> None:
        self.rows = int(rows)
        self.dtypes = dict(dtypes)
        self.attrs = dict(attrs)
        self.chunk_rows = chunk_rows
        self._read = read

    @property
    def columns(self) -> list[str]:
        return list(self.dtypes)

    def __len__(self) -> int:
        return self.rows

    def chunks(self, columns: Sequence[str] | None = None) -> Iterator[pd.DataFrame]:
        """The table (or only ``columns``) chunk by chunk, in row order."""
        wanted = list(columns) if columns is not None else None
        return self._read(wanted, chunk_rows(self.chunk_rows))

    @classmethod
    def from_frame(cls, df: pd.DataFrame, chunk_rows: int | None = None) -> ChunkedTable:
        """A frame already in memory, handed out in slices (no copy of the frame)."""
        frame = df.reset_index(drop=True)

        def read(columns: list[str] | None, size: int) -> Iterator[pd.DataFrame]:
            part = frame if columns is None else frame[columns]
            for start in range(0, max(len(part), 1), size):
                yield part.iloc[start : start + size].reset_index(drop=True)

        return cls(len(frame), frame.dtypes.to_dict(), df.attrs, read, chunk_rows)

    @classmethod
    def from_parquet(
        cls, path: str | os.PathLike[str], chunk_rows: int | None = None
    ) -> ChunkedTable:
        """A Parquet file, read one record batch at a time (pandas dtypes from its metadata)."""
        path = Path(path)
        parquet = pq.ParquetFile(path)
        schema = parquet.schema_arrow
        metadata = schema.metadata or {}
        attrs = json.loads(metadata[ATTRS_KEY]) if ATTRS_KEY in metadata else {}
        dtypes = schema.empty_table().to_pandas().dtypes.to_dict()
        rows = parquet.metadata.num_rows

        def read(columns: list[str] | None, size: int) -> Iterator[pd.DataFrame]:
            reader = pq.ParquetFile(path)
            try:
                if reader.metadata.num_rows == 0:
                    yield reader.schema_arrow.empty_table().select(
                        columns if columns is not None else reader.schema_arrow.names
                    ).to_pandas()
                    return
                for batch in reader.iter_batches(batch_size=size, columns=columns):
                    yield batch.to_pandas()
            finally:
                reader.close()

        return cls(rows, dtypes, attrs, read, chunk_rows)


def arrow_type(dtype: Any) -> pa.DataType | None:
    """The Parquet (Arrow) type of a pandas dtype; None for ``object`` (decided by the values)."""
    if isinstance(dtype, pd.api.extensions.ExtensionDtype):
        if isinstance(dtype, pd.StringDtype):
            return pa.string()
        numpy = getattr(dtype, "numpy_dtype", None)
        return pa.from_numpy_dtype(numpy) if numpy is not None else None
    if pd.api.types.is_object_dtype(dtype):
        return None
    return pa.from_numpy_dtype(dtype)


class TableWriter:
    """Writes a table chunk by chunk to ``path``; nothing appears there before :meth:`commit`.

    Args:
        path: the table's final place.
        types: Arrow type of columns whose type must not depend on the first chunk (a text
            column that is empty in the first chunk would otherwise be typed ``null``). Other
            columns take their type from the first chunk written.
        attrs: stored like ``DataFrame.attrs`` (``pd.read_parquet`` gives them back).
        empty: a zero-row frame with the table's pandas dtypes, written when no chunk had rows.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        types: Mapping[str, pa.DataType] | None = None,
        attrs: Mapping[str, Any] | None = None,
        empty: pd.DataFrame | None = None,
    ) -> None:
        self.path = Path(path)
        self.types = dict(types or {})
        self.attrs = dict(attrs or {})
        self.empty = empty
        self.rows = 0
        self.dtypes: dict[str, Any] = {}
        self._schema: pa.Schema | None = None
        self._writer: pq.ParquetWriter | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp: Path | None = self._new_tmp()

    def _new_tmp(self) -> Path:
        fd, name = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
        )
        os.close(fd)
        return Path(name)

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.abort()

    def _table(self, df: pd.DataFrame) -> pa.Table:
        frame = df.reset_index(drop=True)
        if self._schema is None:
            fields = []
            for name in frame.columns:
                kind = self.types.get(name) or arrow_type(frame[name].dtype)
                if kind is None:
                    kind = pa.array(frame[name], from_pandas=True).type
                    if pa.types.is_null(kind):
                        kind = pa.string()
                fields.append(pa.field(str(name), kind))
            schema = pa.schema(fields)
            table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
            metadata = dict(table.schema.metadata or {})
            if self.attrs:
                metadata[ATTRS_KEY] = json.dumps(self.attrs).encode()
            self._schema = table.schema.with_metadata(metadata)
            self.dtypes = frame.dtypes.to_dict()
            return table.replace_schema_metadata(metadata)
        if list(frame.columns) != self._schema.names:
            raise ValueError(
                f"{self.path.name}: chunk columns {list(frame.columns)} differ from "
                f"{self._schema.names}"
            )
        table = pa.Table.from_pandas(frame, schema=self._schema, preserve_index=False)
        return table.replace_schema_metadata(self._schema.metadata)

    def write(self, df: pd.DataFrame) -> None:
        """Append ``df`` (chunks without rows are skipped)."""
        if self._tmp is None:
            raise RuntimeError(f"{self.path.name}: the writer is closed")
        if len(df) == 0:
            return
        table = self._table(df)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._tmp, table.schema)
        self._writer.write_table(table)
        self.rows += len(df)

    def rewrite(
        self,
        transform: Callable[[pd.DataFrame], pd.DataFrame],
        types: Mapping[str, pa.DataType] | None = None,
    ) -> None:
        """Pass the chunks written so far through ``transform`` (into a new temporary file).

        ``types`` replaces the writer's fixed column types for what is written from now on.
        """
        if self._tmp is None:
            raise RuntimeError(f"{self.path.name}: the writer is closed")
        if self._writer is None:
            return
        self._writer.close()
        self._writer = None
        old = self._tmp
        self._tmp, self._schema, self.rows = self._new_tmp(), None, 0
        if types is not None:
            self.types = dict(types)
        try:
            for chunk in ChunkedTable.from_parquet(old).chunks():
                self.write(transform(chunk))
        finally:
            old.unlink(missing_ok=True)

    def commit(self) -> Path:
        """Close the file and move it into place (atomically); returns the table's path."""
        if self._tmp is None:
            raise RuntimeError(f"{self.path.name}: the writer is closed")
        if self._writer is None:
            if self.empty is None:
                raise ValueError(f"{self.path.name}: no rows were written and no empty frame given")
            table = self._table(self.empty)
            self._writer = pq.ParquetWriter(self._tmp, table.schema)
            self._writer.write_table(table)
        self._writer.close()
        self._writer = None
        os.replace(self._tmp, self.path)
        self._tmp = None
        return self.path

    def abort(self) -> None:
        """Drop what was written (nothing happens after a commit)."""
        if self._writer is not None:
            try:
                self._writer.close()
            finally:
                self._writer = None
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None
