"""The landing area: one folder per party, holding that party's CSV or Parquet files.

- :mod:`~pipelines.resources.landing.area`: :class:`LandingArea`, the Dagster resource;
- :mod:`~pipelines.resources.landing.entries`: what a party folder holds, and the one way a
  landing file is opened (regular files inside the party's own folder, no link followed);
- :mod:`~pipelines.resources.landing.file_facts`: one pass over a file's bytes (digest, NUL bytes,
  the line on which each row starts);
- :mod:`~pipelines.resources.landing.file_readers`: one CSV or Parquet file read in chunks, its
  header checked;
- :mod:`~pipelines.resources.landing.column_scan`: what the first pass learns about each column;
- :mod:`~pipelines.resources.landing.party_stream`: :class:`PartyStream`, a party's files scanned
  once and read again chunk by chunk, and ``SOURCE_FILES``, the per-file row counts kept with the
  party's table.
"""

from pipelines.resources.landing.area import LandingArea
from pipelines.resources.landing.party_stream import (
    SOURCE_FILES,
    SOURCE_LINES,
    FileRows,
    PartyStream,
)

__all__ = ["SOURCE_FILES", "SOURCE_LINES", "FileRows", "LandingArea", "PartyStream"]
