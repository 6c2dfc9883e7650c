"""The landing area: one folder per party, holding that party's CSV or Parquet files.

The landing area is read-only for the pipeline: files are opened for reading and never moved,
rewritten or deleted.
"""

from __future__ import annotations

import logging
from pathlib import Path

import dagster as dg
from pydantic import Field

from dagan_core.errors import InvalidDataError
from pipelines import settings
from pipelines.resources.landing.file_readers import CSV_SUFFIXES, PARQUET_SUFFIXES
from pipelines.resources.landing.party_stream import PartyStream, scan_party
from pipelines.resources.party_store import check_party_name

logger = logging.getLogger(__name__)


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

    def stream_party(self, party: str) -> PartyStream:
        """All of a party's files as a stream of typed chunks (see :class:`PartyStream`).

        The files are checked and scanned once when this returns (columns, row counts, each
        column's type); :meth:`PartyStream.chunks` then reads them a second time.
        """
        return scan_party(party, self.party_files(party))

    def party_files(self, party: str) -> list[Path]:
        """The party's data files; ``InvalidDataError`` when it has none."""
        paths = self.files(party)
        if not paths:
            raise InvalidDataError(
                f"no CSV or Parquet files in {self.party_dir(party)}", party=party
            )
        return paths
