"""Where a raw table's rows came from: landing file and data row, for messages and quarantine."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.chunked_tables import ChunkedTable
from pipelines.resources.landing import SOURCE_FILES, SOURCE_LINES

#: Quarantine columns added to the contract's reasons: the landing file a row came from, its
#: data row number in that file (1 = the first row after the header) and, for a CSV file, the
#: physical line on which the row starts (the line an editor shows; blank lines and line breaks
#: inside quoted cells included).
SOURCE_COLUMNS = ("_file", "_file_row", "_file_line")
#: ``(file, data row, line)`` of one raw table row; None where unknown.
Place = tuple[str | None, int | None, int | None]
#: How many failing rows a check description or log line spells out.
SHOWN_FAILURES = 10


def as_chunked(raw: pd.DataFrame | ChunkedTable) -> ChunkedTable:
    """A raw table to be read chunk by chunk (a frame is handed out in slices)."""
    return raw if isinstance(raw, ChunkedTable) else ChunkedTable.from_frame(raw)


def source_files(raw: pd.DataFrame | ChunkedTable) -> list[str]:
    """Names of the landing files the raw table was read from (empty if unknown)."""
    return [str(name) for name, _ in raw.attrs.get(SOURCE_FILES) or []]


def _line(jumps: list[list[int]] | None, row: int) -> int | None:
    """The line on which 0-based data row ``row`` starts, from ``[[row, line], ...]``."""
    if not jumps:
        return None
    at = int(np.searchsorted([int(r) for r, _ in jumps], row, side="right")) - 1
    first, line = jumps[max(at, 0)]
    return int(line) + row - int(first)


def locate_rows(raw: pd.DataFrame | ChunkedTable, rows: list[int]) -> list[Place]:
    """``(file, data row in that file, line in that file)`` of each row position of the raw table.

    Uses the per-file row counts and CSV line breakpoints the landing reader stored with the
    table; ``(None, None, None)`` when the counts are missing or do not add up to the table's
    length, a line of None for a Parquet file.
    """
    files = raw.attrs.get(SOURCE_FILES) or []
    lines = raw.attrs.get(SOURCE_LINES) or {}
    counts = [int(n) for _, n in files]
    if not files or sum(counts) != len(raw):
        return [(None, None, None)] * len(rows)
    ends = np.cumsum(counts)
    out: list[Place] = []
    for row in rows:
        index = int(np.searchsorted(ends, row, side="right"))
        start = int(ends[index - 1]) if index else 0
        name = str(files[index][0])
        out.append((name, int(row) - start + 1, _line(lines.get(name), int(row) - start)))
    return out


def where(file: str | None, row: int | None, line: int | None = None) -> str:
    """``file 'a.csv' line 5``, ``file 'a.parquet' row 4``, or ``table row 4`` (file unknown)."""
    if file is None:
        return f"table row {row}"
    return f"file {file!r} line {line}" if line is not None else f"file {file!r} row {row}"


def describe_row_failures(
    raw: pd.DataFrame | ChunkedTable,
    row_failures: pd.DataFrame,
    limit: int = SHOWN_FAILURES,
    total: int | None = None,
) -> str:
    """``file 'a.csv' line 5, column 'age', value -5: age=-5 is outside [17, 90]; ...``.

    ``total``: how many failures there are in all, when ``row_failures`` holds only the first.
    """
    if row_failures.empty:
        return ""
    shown = row_failures.head(limit)
    places = locate_rows(raw, [int(r) for r in shown["_row"]])
    parts = []
    for (file, number, line), (_, failure) in zip(places, shown.iterrows(), strict=True):
        row = number if file is not None else int(failure["_row"])
        parts.append(
            f"{where(file, row, line)}, column {failure['_column']!r}, value {failure['_value']}: "
            f"{failure['_reason']}"
        )
    more = (len(row_failures) if total is None else total) - len(shown)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def files_phrase(raw: pd.DataFrame | ChunkedTable) -> str:
    """`` (files 'a.csv', 'b.csv')``, or nothing when the landing files are unknown."""
    files = source_files(raw)
    if not files:
        return ""
    shown = ", ".join(map(repr, files[:SHOWN_FAILURES]))
    more = len(files) - SHOWN_FAILURES
    plural = "s" if len(files) > 1 else ""
    return f" (file{plural} {shown}{f' and {more} more' if more > 0 else ''})"
