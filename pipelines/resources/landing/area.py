"""The landing area: one folder per party, holding that party's CSV or Parquet files.

The landing area is read-only for the pipeline: files are opened for reading and never moved,
rewritten or deleted. It is also a trust boundary: a party's data comes only from regular files
that sit physically inside its own folder. A party folder that is a symbolic link, and a data file
that is a link, a FIFO, a device or a folder, are refused with an error naming the party and the
path (:mod:`~pipelines.resources.landing.entries`); other files (spreadsheets, JSON, notes) are
skipped with a warning naming them.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import dagster as dg
from pydantic import Field

from dagan_core.errors import InvalidDataError
from pipelines import settings
from pipelines.resources.landing.entries import FolderListing, list_folder
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
        """Party folder names, sorted; hidden folders and stray files are ignored.

        A link in the root is listed too (its ingest is refused with a message naming it), so
        that it does not go unnoticed.
        """
        root = self.root_path
        if not root.is_dir():
            return []
        names = []
        for entry in root.iterdir():
            if entry.name.startswith((".", "_")):
                continue
            if not (entry.is_symlink() or entry.is_dir()):
                continue
            try:
                names.append(check_party_name(entry.name))
            except InvalidDataError:
                logger.warning("ignoring landing folder %r: not a valid party name", entry.name)
        return sorted(names)

    def listing(self, party: str) -> FolderListing:
        """What the party's folder holds: data files, refused entries and skipped files."""
        return list_folder(party, self.party_dir(party))

    def files(self, party: str) -> list[Path]:
        """The party's data files (regular CSV and Parquet files), sorted by name."""
        return self.listing(party).files

    def fingerprint(self, party: str) -> dict[str, list[int]]:
        """``{entry name: [size in bytes, mtime in ns, file type]}`` of every data entry, refused
        ones included (from ``lstat``: links are not followed): changes whenever one is touched,
        replaced by a link or turned into another kind of file."""
        folder = self.party_dir(party)
        try:
            info = os.lstat(folder)
        except OSError:
            return {}
        if stat.S_ISLNK(info.st_mode):
            return {"": [info.st_size, info.st_mtime_ns, stat.S_IFMT(info.st_mode)]}
        listing = self.listing(party)
        result = {}
        for path in sorted([*listing.files, *(p for p, _ in listing.refused)]):
            try:
                entry = os.lstat(path)
            except OSError:
                continue
            result[path.name] = [entry.st_size, entry.st_mtime_ns, stat.S_IFMT(entry.st_mode)]
        return result

    def stream_party(self, party: str) -> PartyStream:
        """All of a party's files as a stream of typed chunks (see :class:`PartyStream`).

        The files are checked and scanned once when this returns (columns, row counts, each
        column's type); :meth:`PartyStream.chunks` then reads them a second time. Files skipped
        and files with the same content are listed in :attr:`PartyStream.warnings`.
        """
        listing = self.listing(party)
        stream = scan_party(party, self.party_files(party, listing))
        stream.warnings[:0] = listing.warnings()
        return stream

    def party_files(self, party: str, listing: FolderListing | None = None) -> list[Path]:
        """The party's data files.

        Raises:
            InvalidDataError: the folder or a data entry in it is refused (link, FIFO, device,
                folder), or the party has no data file.
        """
        listing = listing or self.listing(party)
        listing.raise_refused()
        if not listing.files:
            notes = []
            if listing.skipped:
                notes.append(f"skipped: {', '.join(repr(n) for n in listing.skipped)}")
            if listing.hidden:
                notes.append(
                    f"hidden, so ignored until renamed: {', '.join(map(repr, listing.hidden))}"
                )
            raise InvalidDataError(
                f"no CSV or Parquet files in {self.party_dir(party)}"
                + (f" ({'; '.join(notes)})" if notes else ""),
                party=party,
            )
        return listing.files
