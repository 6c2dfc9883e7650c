"""Reading a party's landing files into one table, as only the tests need (the ingest assets
stream them chunk by chunk and never hold the table)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.resources.landing import SOURCE_FILES, FileRows, LandingArea
from pipelines.resources.landing.column_scan import as_text
from pipelines.resources.landing.party_stream import scan_party


def read_party(landing: LandingArea, party: str) -> tuple[pd.DataFrame, list[FileRows]]:
    """All of a party's files as one table (columns in the first file's order).

    Returns the table and how many rows each file contributed (also kept in
    ``table.attrs[SOURCE_FILES]``). The files are read as ``LandingArea.stream_party`` reads them,
    and the typed chunks fill preallocated columns: memory holds the party's table plus one chunk,
    never the file's text as a whole.
    """
    stream = scan_party(party, landing.party_files(party))
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


def infer_column_types(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn text columns whose every non-missing value is a number into numeric columns.

    The rule the landing reader applies while streaming: columns with any non-numeric text stay
    text, exactly as written in the file (values that a Parquet file stored as numbers are written
    as text too, so that the column has one type).
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
            out[name] = column.map(as_text)
    return out
