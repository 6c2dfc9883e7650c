"""The landing area: one folder per party, holding that party's CSV or Parquet files.

The landing area is read-only for the pipeline: files are opened for reading and never moved,
rewritten or deleted. Every problem with a file is raised as ``InvalidDataError`` naming the party,
the file and, where one is at fault, the column.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import NamedTuple

import dagster as dg
import pandas as pd
from pydantic import Field

from dagan_core.errors import InvalidDataError
from pipelines import settings
from pipelines.resources.party_store import check_party_name

logger = logging.getLogger(__name__)

CSV_SUFFIXES = (".csv",)
PARQUET_SUFFIXES = (".parquet", ".pq")
CHUNK_ROWS = 50_000
_LIKELY_DELIMITERS = (";", "\t", "|")


class FileRows(NamedTuple):
    """How many data rows one landing file contributed."""

    file: str
    rows: int


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
        raise _fail(f"is not UTF-8 text ({exc.reason} at byte {exc.start})", party, path) from exc
    except csv.Error as exc:
        raise _fail(f"cannot parse the header line: {exc}", party, path) from exc
    if header is None:
        raise _fail("is empty (no header line)", party, path)
    _check_header(party, path, header)
    return header


def _read_csv(party: str, path: Path) -> pd.DataFrame:
    """Read a CSV file in chunks, every cell as text (types are inferred once, afterwards)."""
    header = _read_csv_header(party, path)
    chunks: list[pd.DataFrame] = []
    try:
        reader = pd.read_csv(
            path, dtype=str, encoding="utf-8-sig", chunksize=CHUNK_ROWS, skip_blank_lines=True
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
                chunks.append(chunk)
    except UnicodeDecodeError as exc:
        raise _fail(f"is not UTF-8 text ({exc.reason})", party, path) from exc
    except pd.errors.EmptyDataError as exc:
        raise _fail("is empty (no header line)", party, path) from exc
    except pd.errors.ParserError as exc:
        raise _fail(f"cannot be parsed as CSV: {exc}", party, path) from exc
    frame = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame(columns=header)
    if list(frame.columns) != header:
        raise _fail(
            f"the parser read columns {list(frame.columns)} from header {header}", party, path
        )
    return frame


def _read_parquet(party: str, path: Path) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        _check_header(party, path, list(parquet.schema_arrow.names))
        batches = [b.to_pandas() for b in parquet.iter_batches(batch_size=CHUNK_ROWS)]
    except (pa.ArrowException, OSError) as exc:
        raise _fail(f"cannot be read as Parquet: {exc}", party, path) from exc
    if not batches:
        return parquet.schema_arrow.empty_table().to_pandas()
    return pd.concat(batches, ignore_index=True)


def _as_text(value: object) -> object:
    return value if isinstance(value, str) or pd.isna(value) else str(value)


def infer_column_types(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn text columns whose every non-missing value is a number into numeric columns.

    Mirrors what ``pandas.read_csv`` does for a whole file, but independent of chunk boundaries.
    Columns with any non-numeric text stay text, exactly as written in the file (values that a
    Parquet file stored as numbers are written as text too, so that the column has one type).
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
        if path.suffix.lower() in PARQUET_SUFFIXES:
            return _read_parquet(party, path)
        return _read_csv(party, path)

    def read_party(self, party: str) -> tuple[pd.DataFrame, list[FileRows]]:
        """All of a party's files as one table (columns in the first file's order).

        Returns the table and how many rows each file contributed. Every file must have the same
        set of columns and at least one data row.
        """
        paths = self.files(party)
        if not paths:
            raise InvalidDataError(
                f"no CSV or Parquet files in {self.party_dir(party)}", party=party
            )
        frames: list[pd.DataFrame] = []
        counts: list[FileRows] = []
        for path in paths:
            frame = self.read_file(party, path)
            if frame.empty:
                raise _fail("has a header but no data rows", party, path)
            if frames and set(frame.columns) != set(frames[0].columns):
                first = frames[0].columns
                missing = sorted(set(first) - set(frame.columns))
                extra = sorted(set(frame.columns) - set(first))
                column = (missing or extra)[0]
                raise _fail(
                    f"its columns differ from {paths[0].name!r}: missing {missing}, extra {extra}",
                    party,
                    path,
                    column=column,
                )
            if frames:
                frame = frame[list(frames[0].columns)]
            frames.append(frame)
            counts.append(FileRows(path.name, len(frame)))
        table = infer_column_types(pd.concat(frames, ignore_index=True))
        if len(table) != sum(c.rows for c in counts):
            raise RuntimeError(f"party {party!r}: row count changed while combining files")
        return table, counts
