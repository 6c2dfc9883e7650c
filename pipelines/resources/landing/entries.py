"""What a party folder holds, and the one way a landing file is opened.

A party's data comes only from regular files physically inside its own folder:

- the party folder must be a real folder, not a symbolic link;
- a data entry (``*.csv``, ``*.parquet``, ``*.pq``) must be a regular file with one hard link
  (a second name for a file elsewhere on the disk is refused like a symbolic link);
- :func:`open_landing` opens a file relative to its folder with ``O_NOFOLLOW`` on both, and checks
  the opened file again (``fstat``), so a link swapped in after the listing is refused too and
  a FIFO never blocks the reader.

Other entries (spreadsheets, JSON exports, sub-folders) are never opened: they are listed as
skipped so that the run can warn about them. Hidden entries (``.part.csv``) are ignored.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from dagan_core.errors import InvalidDataError

CSV_SUFFIXES = (".csv",)
PARQUET_SUFFIXES = (".parquet", ".pq")
DATA_SUFFIXES = CSV_SUFFIXES + PARQUET_SUFFIXES

_KINDS = {
    stat.S_IFLNK: "a symbolic link",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a folder",
}


def _kind(mode: int) -> str:
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def refusal(info: os.stat_result) -> str | None:
    """Why an entry cannot be a party's data file (None: a regular file with one name)."""
    if not stat.S_ISREG(info.st_mode):
        return f"is {_kind(info.st_mode)}, not a regular file"
    if info.st_nlink > 1:
        return (
            f"has {info.st_nlink} hard links (another name for a file elsewhere); "
            "landing files must be plain copies"
        )
    return None


def refused_error(party: str, path: Path, why: str) -> InvalidDataError:
    return InvalidDataError(
        f"refused {str(path)!r}: it {why}; a party's data must be regular files inside its own "
        "folder (links are not followed)",
        party=party,
    )


@dataclass
class FolderListing:
    """A party folder's entries: data files, refused data entries, skipped other files."""

    party: str
    folder: Path
    files: list[Path] = field(default_factory=list)
    refused: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)

    def raise_refused(self) -> None:
        if self.refused:
            path, why = self.refused[0]
            raise refused_error(self.party, path, why)

    def warnings(self) -> list[str]:
        if not self.skipped:
            return []
        names = ", ".join(repr(n) for n in self.skipped)
        return [
            f"party {self.party!r}: skipped {len(self.skipped)} file(s) in {str(self.folder)!r} "
            f"that are not CSV or Parquet: {names} (export them as CSV or Parquet to ingest them)"
        ]


def list_folder(party: str, folder: Path) -> FolderListing:
    """List a party folder without following any link (``lstat`` on every entry)."""
    listing = FolderListing(party, folder)
    try:
        info = os.lstat(folder)
    except FileNotFoundError:
        return listing
    if not stat.S_ISDIR(info.st_mode):
        listing.refused.append((folder, f"is {_kind(info.st_mode)}, not a folder"))
        return listing
    with os.scandir(folder) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.name.startswith("."):
                listing.hidden.append(entry.name)
                continue
            path = Path(entry.path)
            if path.suffix.lower() not in DATA_SUFFIXES:
                listing.skipped.append(entry.name + ("/" if entry.is_dir() else ""))
                continue
            why = refusal(entry.stat(follow_symlinks=False))
            if why is None:
                listing.files.append(path)
            else:
                listing.refused.append((path, why))
    return listing


def open_landing(party: str, path: Path) -> BinaryIO:
    """Open a landing file for reading, binary, refusing anything but a regular file in a real
    folder (no link followed, neither for the file nor for its folder)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        folder = os.open(path.parent, flags | getattr(os, "O_DIRECTORY", 0))
    except OSError as exc:
        why = "is a symbolic link" if exc.errno == errno.ELOOP else f"cannot be opened ({exc})"
        raise refused_error(party, path.parent, f"{why}, not a folder") from exc
    try:
        fd = os.open(path.name, flags | os.O_NONBLOCK, dir_fd=folder)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):  # O_NOFOLLOW met a link
            raise refused_error(party, path, "is a symbolic link") from exc
        raise InvalidDataError(
            f"file {path.name!r}: cannot be opened ({exc.strerror})", party=party
        ) from exc
    finally:
        os.close(folder)
    why = refusal(os.fstat(fd))
    if why is not None:
        os.close(fd)
        raise refused_error(party, path, why)
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")
