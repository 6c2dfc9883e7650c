"""Where a raw table's rows came from: landing file and data row, for messages and quarantine."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.chunked_tables import ChunkedTable
from pipelines.resources.landing import SOURCE_FILES

#: Quarantine columns added to the contract's reasons: the landing file a row came from and its
#: data row number in that file (1 = the first row after the header).
SOURCE_COLUMNS = ("_file", "_file_row")
#: How many failing rows a check description or log line spells out.
SHOWN_FAILURES = 10


def as_chunked(raw: pd.DataFrame | ChunkedTable) -> ChunkedTable:
    """A raw table to be read chunk by chunk (a frame is handed out in slices)."""
    return raw if isinstance(raw, ChunkedTable) else ChunkedTable.from_frame(raw)


def source_files(raw: pd.DataFrame | ChunkedTable) -> list[str]:
    """Names of the landing files the raw table was read from (empty if unknown)."""
    return [str(name) for name, _ in raw.attrs.get(SOURCE_FILES) or []]


def locate_rows(
    raw: pd.DataFrame | ChunkedTable, rows: list[int]
) -> list[tuple[str | None, int | None]]:
    """``(file, data row in that file)`` of each row position of the raw table.

    Uses the per-file row counts the landing reader stored with the table; ``(None, None)`` when
    they are missing or do not add up to the table's length.
    """
    files = raw.attrs.get(SOURCE_FILES) or []
    counts = [int(n) for _, n in files]
    if not files or sum(counts) != len(raw):
        return [(None, None)] * len(rows)
    ends = np.cumsum(counts)
    out: list[tuple[str | None, int | None]] = []
    for row in rows:
        index = int(np.searchsorted(ends, row, side="right"))
        start = int(ends[index - 1]) if index else 0
        out.append((str(files[index][0]), int(row) - start + 1))
    return out


def where(file: str | None, row: int | None) -> str:
    """``file 'a.csv' row 4``, or ``table row 4`` when the file is unknown."""
    return f"file {file!r} row {row}" if file is not None else f"table row {row}"


def describe_row_failures(
    raw: pd.DataFrame | ChunkedTable,
    row_failures: pd.DataFrame,
    limit: int = SHOWN_FAILURES,
    total: int | None = None,
) -> str:
    """``file 'a.csv' row 4, column 'age', value -5: age=-5 is outside [17, 90]; ...``.

    ``total``: how many failures there are in all, when ``row_failures`` holds only the first.
    """
    if row_failures.empty:
        return ""
    shown = row_failures.head(limit)
    places = locate_rows(raw, [int(r) for r in shown["_row"]])
    parts = []
    for (file, number), (_, failure) in zip(places, shown.iterrows(), strict=True):
        row = number if file is not None else int(failure["_row"])
        parts.append(
            f"{where(file, row)}, column {failure['_column']!r}, value {failure['_value']}: "
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
