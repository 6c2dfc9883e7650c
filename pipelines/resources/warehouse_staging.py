"""Rows waiting to be published together with the rest of their model version.

A model version's synthetic rows, its metrics and the SQL models built on them appear in the
warehouse together or not at all. The synthesis step therefore *stages* its rows beside the
warehouse, in ``<warehouse>.d/staged/<schema>.<table>/<key>.parquet`` (a file no reader opens);
the evaluation step publishes them, the version's metrics and the rebuilt SQL models in one write
cycle, then removes the staged file. Until then, and for good if the evaluation fails, readers see
nothing of the version (or its previous publication, unchanged).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from pipelines.resources import warehouse_files as files


@dataclass(frozen=True)
class Staged:
    """One staged partition as read: its file, rows, and the file's identity when read."""

    path: Path
    frame: pd.DataFrame
    identity: tuple[int, int]


def staged_path(layout: files.Layout, schema: str, table: str, key_value: str) -> Path:
    """Where the staged rows of one key of ``schema.table`` live."""
    name = quote(str(key_value), safe="") or "_"
    return layout.folder / "staged" / f"{schema}.{table}" / f"{name}.parquet"


def stage(layout: files.Layout, schema: str, table: str, frame: pd.DataFrame,
          key_value: str) -> Path:
    """Write (or replace) the staged rows of one key, atomically.

    Raises:
        WarehouseDiskError: the file could not be written (the partial file is removed).
    """
    target = staged_path(layout, schema, table, key_value)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}{files.TMP_MARK}{uuid.uuid4().hex}")
    try:
        frame.to_parquet(tmp, index=False)
    except OSError as err:
        files.remove(tmp)
        raise files.WarehouseDiskError(
            err.errno, f"could not write the staged rows {tmp} ({err.strerror or err}); the "
            f"partial file was removed; free space in {tmp.parent} and materialize again",
        ) from err
    os.replace(tmp, target)
    return target


def read_staged(layout: files.Layout, schema: str, table: str, key_value: str) -> Staged | None:
    """The staged rows of one key (None when none are staged)."""
    path = staged_path(layout, schema, table, key_value)
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return Staged(path, pd.read_parquet(path), (st.st_ino, st.st_mtime_ns))


def unstage(staged: Staged) -> bool:
    """Remove a staged file once published, unless it was staged again since it was read."""
    try:
        st = staged.path.stat()
    except FileNotFoundError:
        return False
    if (st.st_ino, st.st_mtime_ns) != staged.identity:
        return False
    files.remove(staged.path)
    return True
