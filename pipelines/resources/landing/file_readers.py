"""Reading one landing file, CSV or Parquet, chunk by chunk, with its header checked.

Every problem with a file is raised as ``InvalidDataError`` naming the party, the file and, where
one is at fault, the column.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from dagan_core.errors import InvalidDataError
from pipelines import settings
from pipelines.resources.landing.entries import CSV_SUFFIXES, PARQUET_SUFFIXES, open_landing

__all__ = ["CSV_SUFFIXES", "PARQUET_SUFFIXES", "file_chunks", "file_columns"]
_LIKELY_DELIMITERS = (";", "\t", "|")


def fail(message: str, party: str, path: Path, column: str | None = None) -> InvalidDataError:
    return InvalidDataError(f"file {path.name!r}: {message}", party=party, column=column)


def _check_header(party: str, path: Path, columns: list[str]) -> None:
    """Reject headers that pandas would silently repair (duplicates, blanks) or misread."""
    if not columns or all(not c.strip() for c in columns):
        raise fail("the header line is empty", party, path)
    for position, name in enumerate(columns, start=1):
        if not str(name).strip():
            raise fail(f"column {position} of the header has no name", party, path)
    seen: set[str] = set()
    for name in columns:
        if name in seen:
            raise fail(f"column name {name!r} appears more than once", party, path, column=name)
        seen.add(name)
    if len(columns) == 1:
        hits = [d for d in _LIKELY_DELIMITERS if d in columns[0]]
        if hits:
            raise fail(
                f"the header was read as a single column; the file seems to use {hits[0]!r} "
                "as its delimiter, but landing CSV files must be comma-separated",
                party,
                path,
                column=columns[0],
            )


def _read_csv_header(party: str, path: Path) -> list[str]:
    try:
        with io.TextIOWrapper(
            open_landing(party, path), encoding="utf-8-sig", newline=""
        ) as handle:
            header = next(csv.reader(handle), None)
    except UnicodeDecodeError as exc:
        raise fail(f"is not UTF-8 text ({_first_bad_utf8(party, path)})", party, path) from exc
    except csv.Error as exc:
        raise fail(f"cannot parse the header line: {exc}", party, path) from exc
    if header is None:
        raise fail("is empty (no header line)", party, path)
    _check_header(party, path, header)
    return header


def _first_bad_utf8(party: str, path: Path) -> str:
    """Where the first byte sequence that is not UTF-8 sits (read line by line, not all at once)."""
    with open_landing(party, path) as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                bad = line[exc.start : exc.end]
                return f"line {number} holds the bytes {bad!r}: {exc.reason}"
    return "a byte sequence is not valid UTF-8"


def _csv_chunks(party: str, path: Path, nul: bool = False) -> Iterator[pd.DataFrame]:
    """A CSV file in chunks of ``DAGAN_INGEST_CHUNK_ROWS`` rows, every cell as text.

    ``nul``: the file holds NUL bytes; it is read with pandas' Python parser, which keeps them
    (the C parser ends a cell at the first one), so that the contract sees and reports them.
    """
    header = _read_csv_header(party, path)
    with open_landing(party, path) as handle:
        yield from _csv_handle_chunks(party, path, handle, header, nul)


def _csv_handle_chunks(
    party: str, path: Path, handle, header: list[str], nul: bool
) -> Iterator[pd.DataFrame]:
    try:
        reader = pd.read_csv(
            handle,
            dtype=str,
            encoding="utf-8-sig",
            chunksize=settings.ingest_chunk_rows(),
            skip_blank_lines=True,
            engine="python" if nul else "c",
        )
        with reader:
            for chunk in reader:
                if not isinstance(chunk.index, pd.RangeIndex):
                    # pandas turns a first column into the index when rows have one field more
                    # than the header
                    raise fail(
                        f"data rows have more fields than the {len(header)} header columns",
                        party,
                        path,
                    )
                if list(chunk.columns) != header:
                    raise fail(
                        f"the parser read columns {list(chunk.columns)} from header {header}",
                        party,
                        path,
                    )
                yield chunk
    except UnicodeDecodeError as exc:
        raise fail(f"is not UTF-8 text ({_first_bad_utf8(party, path)})", party, path) from exc
    except pd.errors.EmptyDataError as exc:
        raise fail("is empty (no header line)", party, path) from exc
    except pd.errors.ParserError as exc:
        raise fail(f"cannot be parsed as CSV: {exc}", party, path) from exc


def _arrow_source(handle) -> object:
    """What Arrow reads an opened landing file from: its ``/proc/self/fd`` entry where there is
    one (the inode already checked, read by Arrow's own buffered reader), else the handle."""
    proc = f"/proc/self/fd/{handle.fileno()}"
    return proc if os.path.exists(proc) else handle


def _parquet_chunks(party: str, path: Path) -> Iterator[pd.DataFrame]:
    """A Parquet file in record batches of ``DAGAN_INGEST_CHUNK_ROWS`` rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        with open_landing(party, path) as handle:
            parquet = pq.ParquetFile(_arrow_source(handle))
            _check_header(party, path, list(parquet.schema_arrow.names))
            for batch in parquet.iter_batches(batch_size=settings.ingest_chunk_rows()):
                yield batch.to_pandas()
    except (pa.ArrowException, OSError) as exc:
        raise fail(f"cannot be read as Parquet: {exc}", party, path) from exc


def file_columns(party: str, path: Path) -> list[str]:
    if path.suffix.lower() in PARQUET_SUFFIXES:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            with open_landing(party, path) as handle:
                names = list(pq.ParquetFile(_arrow_source(handle)).schema_arrow.names)
        except (pa.ArrowException, OSError) as exc:
            raise fail(f"cannot be read as Parquet: {exc}", party, path) from exc
        _check_header(party, path, names)
        return names
    return _read_csv_header(party, path)


def file_chunks(party: str, path: Path, nul: bool = False) -> Iterator[pd.DataFrame]:
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return _parquet_chunks(party, path)
    return _csv_chunks(party, path, nul)
