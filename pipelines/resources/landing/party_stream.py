"""A party's landing files, checked and scanned once, then read again chunk by chunk."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from pipelines.resources.landing.column_scan import ColumnScan, as_text
from pipelines.resources.landing.file_facts import FileFacts, file_facts, row_lines
from pipelines.resources.landing.file_readers import (
    PARQUET_SUFFIXES,
    fail,
    file_chunks,
    file_columns,
)

#: ``DataFrame.attrs`` key of a party table read from the landing area: ``[[file, rows], ...]`` in
#: row order. It is stored with the raw table (Parquet keeps ``attrs``) so that a quarantined row
#: can name the file and data row it came from.
SOURCE_FILES = "source_files"
#: ``DataFrame.attrs`` key: ``{csv file: [[data row, line], ...]}``, where each CSV file's data
#: rows start in the file (see :func:`~pipelines.resources.landing.file_facts.row_lines`).
SOURCE_LINES = "source_lines"


class FileRows(NamedTuple):
    """How many data rows one landing file contributed."""

    file: str
    rows: int


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
    scans: dict[str, ColumnScan] = field(repr=False)
    facts: list[FileFacts] = field(default_factory=list, repr=False)
    lines: dict[str, list[list[int]]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(c.rows for c in self.files)

    def source_files(self) -> list[list[Any]]:
        """``[[file, rows], ...]``, the value of ``attrs[SOURCE_FILES]`` of the party's table."""
        return [[c.file, c.rows] for c in self.files]

    def attrs(self) -> dict[str, Any]:
        """The ``attrs`` of the party's raw table: files with their rows, CSV rows' lines."""
        return {SOURCE_FILES: self.source_files(), SOURCE_LINES: dict(self.lines)}

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
        """The party's rows, file after file, in chunks of at most ``DAGAN_INGEST_CHUNK_ROWS`` rows.

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
        facts = self.facts or [None] * len(self.paths)
        for path, expected, fact in zip(self.paths, self.files, facts, strict=True):
            rows = 0
            for chunk in file_chunks(self.party, path, nul=fact is not None and fact.nul):
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
                        values = column.map(as_text).to_numpy(dtype=object)
                    columns[name] = values
                yield columns
            if rows != expected.rows:
                raise fail(
                    f"changed while it was being read ({expected.rows} rows, then {rows}); "
                    "read it again once it is complete",
                    self.party,
                    path,
                )


def scan_party(party: str, paths: list[Path]) -> PartyStream:
    """Pass 1: check every file, count its rows and learn each column's type."""
    columns: list[str] = []
    scans: dict[str, ColumnScan] = {}
    counts: list[FileRows] = []
    facts: list[FileFacts] = []
    lines: dict[str, list[list[int]]] = {}
    for path in paths:
        fact = file_facts(party, path)
        facts.append(fact)
        names = file_columns(party, path)
        if not columns:
            columns = names
            scans = {name: ColumnScan() for name in columns}
        elif set(names) != set(columns):
            missing = sorted(set(columns) - set(names))
            extra = sorted(set(names) - set(columns))
            raise fail(
                f"its columns differ from {paths[0].name!r}: missing {missing}, extra {extra}",
                party,
                path,
                column=(missing or extra)[0],
            )
        rows = 0
        for chunk in file_chunks(party, path, nul=fact.nul):
            rows += len(chunk)
            for name in columns:
                scans[name].update(chunk[name])
        if rows == 0:
            raise fail("has a header but no data rows", party, path)
        counts.append(FileRows(path.name, rows))
        if path.suffix.lower() not in PARQUET_SUFFIXES:
            found = row_lines(party, path, rows, fact)
            if found is not None:
                lines[path.name] = found
    numeric = {name: scans[name].dtype() for name in columns}
    return PartyStream(
        party, list(paths), columns, counts, numeric, scans, facts, lines,
        _same_content(party, paths, facts),
    )


def _same_content(party: str, paths: list[Path], facts: list[FileFacts]) -> list[str]:
    """A warning for each file whose bytes are those of an earlier file of the party."""
    first: dict[str, Path] = {}
    warnings = []
    for path, fact in zip(paths, facts, strict=True):
        if fact.digest in first:
            warnings.append(
                f"party {party!r}: file {path.name!r} has the same content as "
                f"{first[fact.digest].name!r} (sha256 {fact.digest[:12]}); both are ingested, so "
                "its rows count twice: remove one of them if it landed twice by mistake"
            )
        else:
            first[fact.digest] = path
    return warnings
