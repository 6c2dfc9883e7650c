"""The warehouse's files on disk, and what happens to a published file someone wrote to.

Layout, for a warehouse ``<dir>/dagan_warehouse.duckdb``:

- ``dagan_warehouse.duckdb``: the name analysts open, a symbolic link to the current generation;
- ``dagan_warehouse.duckdb.d/dagan_warehouse.g000012.duckdb``: the current generation, written
  once by a publish and then never again (mode 0444); each publish writes the next one and moves
  the link, so a new connection, even a plain ``duckdb.connect(path, read_only=True)`` made while
  an older one is open in the same process, opens the new file;
- ``dagan_warehouse.duckdb.d/master.duckdb``: the pipeline's own copy, the base of the next
  write cycle; no reader is ever pointed at it;
- ``dagan_warehouse.duckdb.d/published.json``: which generation was published, with its size and
  modification time, to recognise a generation that was changed afterwards.

A generation that was opened read-write outside the pipeline (a write-ahead log beside it, a
size or modification time that differs from the record, or a write lock held on it) is never
reused or deleted: it is moved, with its log, to ``dagan_warehouse.set-aside-<UTC time>.duckdb``
beside the warehouse and a warning names it; the next generation is written from the master.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

logger = logging.getLogger("pipelines.resources.warehouse")

TMP_MARK = ".writing-"
_GENERATION = re.compile(r"\.g(\d{6,})\.duckdb$")


class WarehouseDiskError(OSError):
    """Writing a warehouse file failed (full disk, quota, I/O error); the message names the file
    and says that the partial file was removed."""


@dataclass(frozen=True)
class Layout:
    """Paths of one warehouse (see the module docstring)."""

    published: Path

    @property
    def stem(self) -> str:
        return self.published.name.split(".")[0] or "warehouse"

    @property
    def folder(self) -> Path:
        return self.published.with_name(self.published.name + ".d")

    @property
    def master(self) -> Path:
        return self.folder / "master.duckdb"

    @property
    def manifest(self) -> Path:
        return self.folder / "published.json"

    def generation(self, number: int) -> Path:
        return self.folder / f"{self.stem}.g{number:06d}.duckdb"

    def current(self) -> Path | None:
        """The generation the published link points at (None: nothing published, or a plain
        file from before generations)."""
        if not self.published.is_symlink():
            return None
        return self.published.resolve()

    def generations(self) -> list[Path]:
        return sorted(p for p in self.folder.glob(f"{self.stem}.g*.duckdb")
                      if _GENERATION.search(p.name))

    def next_number(self) -> int:
        """Never a number used before, even by a generation that was set aside: duckdb caches a
        database by its file name, so a reused name could serve an old snapshot."""
        numbers = [int(m.group(1)) for p in self.generations()
                   if (m := _GENERATION.search(p.name))]
        try:
            numbers.append(int(json.loads(self.manifest.read_text()).get("number", 0)))
        except (OSError, ValueError):
            pass
        return max(numbers, default=0) + 1


def wal_of(path: Path) -> Path:
    """The write-ahead log DuckDB keeps beside a database file."""
    return path.with_name(path.name + ".wal")


def copy_file(src: Path, dst: Path) -> None:
    """Copy ``src`` to ``dst``; on failure remove the partial ``dst`` and name it.

    Raises:
        WarehouseDiskError: the copy could not be written (e.g. the disk is full).
    """
    try:
        shutil.copyfile(src, dst)
    except OSError as err:
        remove(dst)
        size = src.stat().st_size if src.exists() else 0
        raise WarehouseDiskError(
            err.errno,
            f"could not write the warehouse copy {dst} ({err.strerror or err}); the partial "
            f"copy was removed and the published warehouse is unchanged. It needs about "
            f"{size / 1e6:.1f} MB free in {dst.parent}; free space there and materialize again",
        ) from err


def remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def fsync(path: Path) -> None:
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_lock_held(path: Path) -> bool:
    """Whether another process holds a write lock on ``path`` (a read-write DuckDB session)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # also drops the probe's lock
    return False


def fingerprint(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def record_published(layout: Layout, generation: Path, number: int) -> None:
    """Write the manifest of a freshly written generation (atomically)."""
    tmp = layout.manifest.with_name(layout.manifest.name + TMP_MARK)
    tmp.write_text(json.dumps({"generation": generation.name, "number": number,
                               **fingerprint(generation)}))
    os.replace(tmp, layout.manifest)


def foreign_write(layout: Layout, generation: Path) -> str | None:
    """Why ``generation`` looks written outside the pipeline (None: it does not)."""
    if wal_of(generation).exists():
        return f"a write-ahead log {wal_of(generation)} lies beside it"
    if write_lock_held(generation):
        return "a read-write session holds it open"
    try:
        record = json.loads(layout.manifest.read_text())
    except (OSError, ValueError):
        return None
    if record.get("generation") == generation.name and {
        k: record.get(k) for k in ("size", "mtime_ns")
    } != fingerprint(generation):
        return "its size or modification time changed after it was published"
    return None


def set_aside(layout: Layout, path: Path, reason: str) -> Path:
    """Move a published file someone wrote to (and its log) beside the warehouse; warn."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    aside = layout.published.with_name(f"{layout.stem}.set-aside-{stamp}.duckdb")
    os.replace(path, aside)
    if wal_of(path).exists():
        os.replace(wal_of(path), wal_of(aside))
    with contextlib.suppress(OSError):
        os.chmod(aside, 0o644)
    logger.warning(
        "the published warehouse file %s was opened read-write outside the pipeline (%s); it "
        "was kept, with any write-ahead log, as %s, and the pipeline's own copy is published "
        "instead. Open %s read-write to see or recover those writes; analysts' sessions must be "
        "read-only (duckdb.connect(path, read_only=True) or make sql)",
        path, reason, aside, aside,
    )
    return aside


def retire_generations(layout: Layout, keep: Path) -> list[Path]:
    """Remove every generation but ``keep`` (open readers keep theirs until they close); one
    written outside the pipeline is set aside instead. Returns the set-aside files."""
    kept = []
    for generation in layout.generations():
        if generation == keep:
            continue
        reason = foreign_write(layout, generation)
        if reason:
            kept.append(set_aside(layout, generation, reason))
        else:
            remove(generation)
    return kept


def remove_stale_copies(layout: Layout) -> None:
    """Copies left by a writer that died mid-cycle (only the lock holder may write copies)."""
    stale = [*layout.folder.glob(f"*{TMP_MARK}*"),
             *layout.published.parent.glob(f"{layout.published.name}{TMP_MARK}*")]
    for path in stale:
        logger.warning("removing stale warehouse copy %s", path)
        remove(path)
