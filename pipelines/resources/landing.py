"""The landing area: one folder per party, holding that party's CSV or Parquet files.

The landing area is read-only for the pipeline: files are opened for reading and never moved,
rewritten or deleted. Every problem with a file is raised as ``InvalidDataError`` naming the party,
the file and, where one is at fault, the column.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import dagster as dg
import numpy as np
import pandas as pd
from pydantic import Field

from dagan_core.errors import InvalidDataError
from pipelines import settings
from pipelines.resources.party_store import check_party_name

logger = logging.getLogger(__name__)

CSV_SUFFIXES = (".csv",)
PARQUET_SUFFIXES = (".parquet", ".pq")
#: Rows per chunk; None means ``settings.ingest_chunk_rows()`` (``DAGAN_INGEST_CHUNK_ROWS``).
CHUNK_ROWS: int | None = None
_LIKELY_DELIMITERS = (";", "\t", "|")
#: ``DataFrame.attrs`` key of a party table read from the landing area: ``[[file, rows], ...]`` in
#: row order. It is stored with the raw table (Parquet keeps ``attrs``) so that a quarantined row
#: can name the file and data row it came from.
SOURCE_FILES = "source_files"


class FileRows(NamedTuple):
    """How many data rows one landing file contributed."""

    file: str
    rows: int


def _chunk_rows() -> int:
    return CHUNK_ROWS or settings.ingest_chunk_rows()


def _fail(message: str, party: str, path: Path, column: str | None = None) -> InvalidDataError:
    return InvalidDataError(f"file {path.name!r}: {message}", party=party, column=column)


def _check_header(party: str, path: Path, columns: list[str]) -> None:
    """Reject headers that pandas would silently repair (duplicates, blanks) or misread."""
    if not columns or all(not c.strip() for c in columns):
        raise _fail("the header line is empty", party, path)
    for position, name in enumerate(columns, start=1):
        if not str(name).strip():
            raise _fail(f"column {position} of the header has no name", party, path)
    seen: set[str] = set()
    for name in columns:
        if name in seen:
            raise _fail(f"column name {name!r} appears more than once", party, path, column=name)
        seen.add(name)
    if len(columns) == 1:
        hits = [d for d in _LIKELY_DELIMITERS if d in columns[0]]
        if hits:
            raise _fail(
                f"the header was read as a single column; the file seems to use {hits[0]!r} "
                "as its delimiter, but landing CSV files must be comma-separated",
                party,
                path,
                column=columns[0],
            )


def _read_csv_header(party: str, path: Path) -> list[str]:
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), None)
    except UnicodeDecodeError as exc:
        raise _fail(f"is not UTF-8 text ({_first_bad_utf8(path)})", party, path) from exc
    except csv.Error as exc:
        raise _fail(f"cannot parse the header line: {exc}", party, path) from exc
    if header is None:
        raise _fail("is empty (no header line)", party, path)
    _check_header(party, path, header)
    return header


def _first_bad_utf8(path: Path) -> str:
    """Where the first byte sequence that is not UTF-8 sits (read line by line, not all at once)."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                bad = line[exc.start : exc.end]
                return f"line {number} holds the bytes {bad!r}: {exc.reason}"
    return "a byte sequence is not valid UTF-8"


def _csv_chunks(party: str, path: Path) -> Iterator[pd.DataFrame]:
    """A CSV file in chunks of ``_chunk_rows()`` rows, every cell as text."""
    header = _read_csv_header(party, path)
    try:
        reader = pd.read_csv(
            path, dtype=str, encoding="utf-8-sig", chunksize=_chunk_rows(), skip_blank_lines=True
        )
        with reader:
            for chunk in reader:
                if not isinstance(chunk.index, pd.RangeIndex):
                    # pandas turns a first column into the index when rows have one field more
                    # than the header
                    raise _fail(
                        f"data rows have more fields than the {len(header)} header columns",
                        party,
                        path,
                    )
                if list(chunk.columns) != header:
                    raise _fail(
                        f"the parser read columns {list(chunk.columns)} from header {header}",
                        party,
                        path,
                    )
                yield chunk
    except UnicodeDecodeError as exc:
        raise _fail(f"is not UTF-8 text ({_first_bad_utf8(path)})", party, path) from exc
    except pd.errors.EmptyDataError as exc:
        raise _fail("is empty (no header line)", party, path) from exc
    except pd.errors.ParserError as exc:
        raise _fail(f"cannot be parsed as CSV: {exc}", party, path) from exc


def _parquet_chunks(party: str, path: Path) -> Iterator[pd.DataFrame]:
    """A Parquet file in record batches of ``_chunk_rows()`` rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        _check_header(party, path, list(parquet.schema_arrow.names))
        for batch in parquet.iter_batches(batch_size=_chunk_rows()):
            yield batch.to_pandas()
    except (pa.ArrowException, OSError) as exc:
        raise _fail(f"cannot be read as Parquet: {exc}", party, path) from exc


def _file_columns(party: str, path: Path) -> list[str]:
    if path.suffix.lower() in PARQUET_SUFFIXES:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            names = list(pq.ParquetFile(path).schema_arrow.names)
        except (pa.ArrowException, OSError) as exc:
            raise _fail(f"cannot be read as Parquet: {exc}", party, path) from exc
        _check_header(party, path, names)
        return names
    return _read_csv_header(party, path)


def _chunks(party: str, path: Path) -> Iterator[pd.DataFrame]:
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return _parquet_chunks(party, path)
    return _csv_chunks(party, path)


def _as_text(value: object) -> object:
    return value if isinstance(value, str) or pd.isna(value) else str(value)


@dataclass
class _ColumnScan:
    """What the first pass learns about one column across all of a party's files."""

    has_values: bool = False
    all_numbers: bool = True
    has_missing: bool = False
    kinds: set[str] = field(default_factory=set)  # numpy kinds of the numbers seen
    other: bool = False  # a typed (Parquet) column that is neither number nor text

    def update(self, column: pd.Series) -> None:
        present = column.notna()
        self.has_missing |= bool((~present).any())
        if not present.any():
            return
        self.has_values = True
        if column.dtype == object:
            numbers = pd.to_numeric(column, errors="coerce")
            if int(numbers.notna().sum()) != int(present.sum()):
                self.all_numbers = False
            else:
                self.kinds.add(numbers.dtype.kind)
        elif column.dtype.kind in "iuf":
            self.kinds.add(column.dtype.kind)
        else:
            self.other = True

    def dtype(self) -> np.dtype | None:
        """The column's final numeric dtype, or None when it stays as it is (text, other)."""
        if self.other or not self.has_values or not self.all_numbers:
            return None
        if self.kinds == {"i"} and not self.has_missing:
            return np.dtype("int64")
        if self.kinds == {"u"} and not self.has_missing:
            return np.dtype("uint64")
        return np.dtype("float64")


def infer_column_types(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn text columns whose every non-missing value is a number into numeric columns.

    The same rule as :meth:`LandingArea.read_party` applies while streaming: columns with any
    non-numeric text stay text, exactly as written in the file (values that a Parquet file stored
    as numbers are written as text too, so that the column has one type).
    """
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if column.dtype != object or not column.notna().any():
            continue
        numbers = pd.to_numeric(column, errors="coerce")
        if numbers.notna().sum() == column.notna().sum():
            out[name] = numbers
        else:
            out[name] = column.map(_as_text)
    return out


class LandingArea(dg.ConfigurableResource):
    """Read-only access to the landing area (``<root>/<party>/*.csv|*.parquet``)."""

    root: str | None = Field(
        default=None,
        description="Root folder of the landing area; defaults to settings.landing_dir().",
    )

    @property
    def root_path(self) -> Path:
        return Path(self.root) if self.root else settings.landing_dir()

    def party_dir(self, party: str) -> Path:
        return self.root_path / check_party_name(party)

    def parties(self) -> list[str]:
        """Party folder names, sorted; hidden folders and stray files are ignored."""
        root = self.root_path
        if not root.is_dir():
            return []
        names = []
        for entry in root.iterdir():
            if not entry.is_dir() or entry.name.startswith((".", "_")):
                continue
            try:
                names.append(check_party_name(entry.name))
            except InvalidDataError:
                logger.warning("ignoring landing folder %r: not a valid party name", entry.name)
        return sorted(names)

    def files(self, party: str) -> list[Path]:
        """The party's data files (CSV and Parquet), sorted by name; hidden files are ignored."""
        folder = self.party_dir(party)
        if not folder.is_dir():
            return []
        suffixes = CSV_SUFFIXES + PARQUET_SUFFIXES
        return sorted(
            p
            for p in folder.iterdir()
            if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in suffixes
        )

    def fingerprint(self, party: str) -> dict[str, list[int]]:
        """``{file name: [size in bytes, mtime in ns]}``: changes whenever a file is touched."""
        result = {}
        for path in self.files(party):
            stat = path.stat()
            result[path.name] = [stat.st_size, stat.st_mtime_ns]
        return result

    def read_file(self, party: str, path: Path) -> pd.DataFrame:
        """One landing file as a table (streamed like :meth:`read_party`)."""
        return self._read(party, [path])[0]

    def read_party(self, party: str) -> tuple[pd.DataFrame, list[FileRows]]:
        """All of a party's files as one table (columns in the first file's order).

        Returns the table and how many rows each file contributed (also kept in
        ``table.attrs[SOURCE_FILES]``). Every file must have the same set of columns and at least
        one data row.

        The files are read as :meth:`stream_party` reads them, and the typed chunks fill
        preallocated columns: memory holds the party's table plus one chunk, never the file's
        text as a whole. The ingest assets use :meth:`stream_party` directly and never hold the
        table.
        """
        return self._read(party, self._party_files(party))

    def stream_party(self, party: str) -> PartyStream:
        """All of a party's files as a stream of typed chunks (see :class:`PartyStream`).

        The files are checked and scanned once when this returns (columns, row counts, each
        column's type); :meth:`PartyStream.chunks` then reads them a second time.
        """
        return _scan(party, self._party_files(party))

    def _party_files(self, party: str) -> list[Path]:
        paths = self.files(party)
        if not paths:
            raise InvalidDataError(
                f"no CSV or Parquet files in {self.party_dir(party)}", party=party
            )
        return paths

    def _read(self, party: str, paths: list[Path]) -> tuple[pd.DataFrame, list[FileRows]]:
        stream = _scan(party, paths)
        filled = {
            name: np.empty(stream.rows, dtype=dtype if dtype is not None else object)
            for name, dtype in stream.numeric.items()
        }
        start = 0
        for chunk in stream.arrays():
            stop = start + len(chunk[stream.columns[0]])
            for name in stream.columns:
                filled[name][start:stop] = chunk[name]
            start = stop
        table = pd.DataFrame(
            {name: stream.finish(name, filled[name]) for name in stream.columns}, copy=False
        )
        table.attrs[SOURCE_FILES] = stream.source_files()
        return table, stream.files


@dataclass
class PartyStream:
    """A party's landing files, checked and scanned, ready to be read again chunk by chunk.

    Attributes:
        party: the party.
        paths: its files, in the order their rows come.
        columns: the columns, in the first file's order.
        files: how many data rows each file holds.
        numeric: each column's numeric dtype, or None for a column kept as it is (text, or a
            typed Parquet column that is neither number nor text).
    """

    party: str
    paths: list[Path]
    columns: list[str]
    files: list[FileRows]
    numeric: dict[str, np.dtype | None]
    scans: dict[str, _ColumnScan] = field(repr=False)

    @property
    def rows(self) -> int:
        return sum(c.rows for c in self.files)

    def source_files(self) -> list[list[Any]]:
        """``[[file, rows], ...]``, the value of ``attrs[SOURCE_FILES]`` of the party's table."""
        return [[c.file, c.rows] for c in self.files]

    def is_text(self, name: str) -> bool:
        """Whether a column is kept as text (its values as written)."""
        scan = self.scans[name]
        return self.numeric[name] is None and not scan.other

    def finish(self, name: str, values: np.ndarray) -> pd.Series:
        # an explicit dtype: pandas would otherwise scan object columns for dates, with temporary
        # arrays several times the column's size
        series = pd.Series(values, dtype=values.dtype, copy=False)
        return series.infer_objects() if self.scans[name].other else series

    def chunks(self) -> Iterator[pd.DataFrame]:
        """The party's rows, file after file, in chunks of at most ``_chunk_rows()`` rows.

        Every chunk has the same columns with the same dtypes (numbers as ``numeric`` says, text
        as written); its index starts at 0. A file whose row count changed since the scan raises
        ``InvalidDataError``.
        """
        for arrays in self.arrays():
            yield pd.DataFrame(
                {name: self.finish(name, values) for name, values in arrays.items()}, copy=False
            )

    def arrays(self) -> Iterator[dict[str, np.ndarray]]:
        """Like :meth:`chunks`, each chunk as one array per column (no frame is built)."""
        for path, expected in zip(self.paths, self.files, strict=True):
            rows = 0
            for chunk in _chunks(self.party, path):
                rows += len(chunk)
                if rows > expected.rows:
                    break
                columns = {}
                for name in self.columns:
                    column, dtype, scan = chunk[name], self.numeric[name], self.scans[name]
                    if dtype is not None:
                        values = pd.to_numeric(column).to_numpy(dtype=dtype)
                    elif scan.other or not scan.has_values:
                        values = column.to_numpy(dtype=object)
                    else:
                        values = column.map(_as_text).to_numpy(dtype=object)
                    columns[name] = values
                yield columns
            if rows != expected.rows:
                raise _fail(
                    f"changed while it was being read ({expected.rows} rows, then {rows}); "
                    "read it again once it is complete",
                    self.party,
                    path,
                )


def _scan(party: str, paths: list[Path]) -> PartyStream:
    """Pass 1: check every file, count its rows and learn each column's type."""
    columns: list[str] = []
    scans: dict[str, _ColumnScan] = {}
    counts: list[FileRows] = []
    for path in paths:
        names = _file_columns(party, path)
        if not columns:
            columns = names
            scans = {name: _ColumnScan() for name in columns}
        elif set(names) != set(columns):
            missing = sorted(set(columns) - set(names))
            extra = sorted(set(names) - set(columns))
            raise _fail(
                f"its columns differ from {paths[0].name!r}: missing {missing}, extra {extra}",
                party,
                path,
                column=(missing or extra)[0],
            )
        rows = 0
        for chunk in _chunks(party, path):
            rows += len(chunk)
            for name in columns:
                scans[name].update(chunk[name])
        if rows == 0:
            raise _fail("has a header but no data rows", party, path)
        counts.append(FileRows(path.name, rows))
    numeric = {name: scans[name].dtype() for name in columns}
    return PartyStream(party, list(paths), columns, counts, numeric, scans)
