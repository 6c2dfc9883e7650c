"""The warehouse's copy-on-write write cycle (see :mod:`pipelines.resources.warehouse`).

One cycle, under an exclusive ``flock`` on ``<warehouse>.lock``:

1. remove copies left by a writer that died mid-cycle; set aside any published generation that
   was written outside the pipeline (:mod:`pipelines.resources.warehouse_files`);
2. copy the pipeline's master file to a fresh temporary file and hand out a read-write connection
   on it;
3. ``CHECKPOINT`` and close; copy it to the next generation (mode 0444), record it, point the
   published link at it (``os.replace`` of a link: atomic), make it the master, and remove the
   older generations (open readers keep theirs until they close).

A cycle whose block raises publishes nothing and removes its copy. A copy that cannot be written
(full disk) is removed and the error names it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb

from pipelines.resources import warehouse_files as files
from pipelines.resources.warehouse_sql import catalog_name, quote_literal

TMP_MARK = files.TMP_MARK
_process_lock = threading.Lock()  # flock already serialises threads; this keeps waits cheap


def lock_file(published: Path) -> Path:
    """The lock file that serialises write cycles of ``published``."""
    return published.with_name(published.name + ".lock")


@contextlib.contextmanager
def copy_on_write(published: Path, lock_timeout_s: float) -> Iterator[duckdb.DuckDBPyConnection]:
    """One locked copy-on-write cycle of ``published``; the change is published only if the
    block succeeds. Yields a connection whose current catalog is the private copy."""
    layout = files.Layout(published)
    layout.folder.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(lock_file(published), lock_timeout_s):
        files.remove_stale_copies(layout)
        base = _base(layout)
        tmp = layout.folder / f"{layout.stem}{TMP_MARK}{uuid.uuid4().hex}.duckdb"
        if base is not None:
            files.copy_file(base, tmp)
        con = duckdb.connect(":memory:")
        ok = False
        try:
            con.execute(f"ATTACH {quote_literal(str(tmp))} AS {catalog_name(published)}")
            con.execute(f"USE {catalog_name(published)}")
            yield con
            con.execute("CHECKPOINT")
            ok = True
        finally:
            con.close()
            files.remove(files.wal_of(tmp))
            try:
                if ok:
                    _publish(layout, tmp)
            finally:
                files.remove(tmp)


def _base(layout: files.Layout) -> Path | None:
    """The file the cycle starts from: the master; before the first generation, a plain file at
    the published path (set aside first when someone wrote to it)."""
    current = layout.current()
    if current is not None and current.exists():
        reason = files.foreign_write(layout, current)
        if reason:
            files.set_aside(layout, current, reason)
    if layout.master.exists():
        return layout.master
    if layout.published.is_file() and not layout.published.is_symlink():
        if files.wal_of(layout.published).exists():
            return files.set_aside(layout, layout.published, "a write-ahead log lies beside it")
        return layout.published
    return None


def _publish(layout: files.Layout, tmp: Path) -> None:
    """Write the next generation from ``tmp``, point the published link at it, keep ``tmp`` as
    the master and retire older generations."""
    files.fsync(tmp)
    number = layout.next_number()
    generation = layout.generation(number)
    staged = generation.with_name(generation.name + TMP_MARK)
    files.copy_file(tmp, staged)
    os.chmod(staged, 0o444)
    files.fsync(staged)
    os.replace(staged, generation)
    files.record_published(layout, generation, number)
    link = layout.published.with_name(layout.published.name + TMP_MARK + "link")
    files.remove(link)
    os.symlink(os.path.relpath(generation, layout.published.parent), link)
    os.replace(link, layout.published)
    os.chmod(tmp, 0o600)  # no reader is ever pointed at the master
    os.replace(tmp, layout.master)
    files.fsync(layout.folder)
    files.fsync(layout.published.parent)
    files.retire_generations(layout, keep=generation)


@contextlib.contextmanager
def exclusive_lock(path: Path, timeout_s: float) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (polling; TimeoutError after ``timeout_s``)."""
    deadline = time.monotonic() + timeout_s
    with _process_lock, open(path, "a+") as handle:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"another writer held {path} for over {timeout_s:.0f}s"
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
