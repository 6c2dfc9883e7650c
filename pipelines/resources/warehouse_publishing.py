"""The warehouse's copy-on-write write cycle (see :mod:`pipelines.resources.warehouse`).

One cycle: take an exclusive ``flock`` on ``<warehouse>.lock``, copy the published file to a
fresh temporary file in the same folder, hand out a read-write connection on the copy, then
``CHECKPOINT``, close and ``os.replace`` the copy onto the published path. A cycle whose block
raises publishes nothing and removes its copy; copies left by a writer that died mid-cycle are
removed by the next lock holder.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb

from pipelines.resources.warehouse_sql import catalog_name, quote_literal

logger = logging.getLogger(__name__)

TMP_MARK = ".writing-"
_process_lock = threading.Lock()  # flock already serialises threads; this keeps waits cheap


def lock_file(published: Path) -> Path:
    """The lock file that serialises write cycles of ``published``."""
    return published.with_name(published.name + ".lock")


@contextlib.contextmanager
def copy_on_write(published: Path, lock_timeout_s: float) -> Iterator[duckdb.DuckDBPyConnection]:
    """One locked copy-on-write cycle of ``published``; the change is published only if the
    block succeeds. Yields a connection whose current catalog is the private copy."""
    published.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(lock_file(published), lock_timeout_s):
        remove_stale_copies(published)
        tmp = published.with_name(f"{published.name}{TMP_MARK}{uuid.uuid4().hex}")
        if published.exists():
            shutil.copyfile(published, tmp)
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
            if ok:
                _fsync(tmp)
                os.replace(tmp, published)
                _fsync(published.parent)
            else:
                _remove(tmp)
            _remove(Path(str(tmp) + ".wal"))


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


def remove_stale_copies(published: Path) -> None:
    """Copies left by a writer that died mid-cycle (only the lock holder may write copies)."""
    for stale in published.parent.glob(f"{published.name}{TMP_MARK}*"):
        logger.warning("removing stale warehouse copy %s", stale)
        _remove(stale)


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _fsync(path: Path) -> None:
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
