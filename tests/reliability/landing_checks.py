"""Building tiny landing folders and checking what an ingest run left, for the landing tests."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ingest_harness import IngestRun

from tests.pipelines.party_fixtures import adult_slice

ROWS = 12


def csv_bytes(start: int = 0, stop: int = ROWS) -> bytes:
    return adult_slice(start, stop).to_csv(index=False).encode()


def party_dir(tmp_path: Path, party: str) -> Path:
    folder = tmp_path / "landing" / party
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def lsnapshot(root: Path) -> dict[str, tuple]:
    """Every entry under ``root`` seen with ``lstat`` (links not followed, FIFOs not opened):
    kind, size, mtime and, for a regular file, its bytes (when this user may read them)."""
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in sorted(dirs + files):
            path = Path(folder) / name
            info = os.lstat(path)
            content = _content(path, info.st_mode)
            out[str(path.relative_to(root))] = (
                stat.S_IFMT(info.st_mode), info.st_size, info.st_mtime_ns, content
            )
    return out


def _content(path: Path, mode: int) -> bytes | str | None:
    if stat.S_ISLNK(mode):
        return os.readlink(path)
    if not stat.S_ISREG(mode):
        return None
    try:
        return path.read_bytes()
    except PermissionError:
        return "unreadable"


def assert_refused(run: IngestRun, party: str, path: Path, why: str) -> None:
    """The party's ingest stopped before reading anything, naming party and path."""
    assert not run.result.success
    assert run.materialized == set() and run.check is None
    said = f"[party='{party}'] refused '{path}': it {why}"
    assert said in run.log, run.log[-2000:]
    assert not any(run.store.has_table(party, t) for t in ("raw", "validated", "quarantine"))


def assert_accounted(run: IngestRun, rows: int) -> None:
    meta = run.meta("validated_party_table")
    assert meta["rows_read"] == rows == len(run.table("raw"))
    assert meta["rows_validated"] + meta["rows_quarantined"] == rows
    assert len(run.table("validated")) + len(run.table("quarantine")) == rows
