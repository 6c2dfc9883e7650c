"""Where trained models live: one folder per model version (the model_versions partition key)."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from pipelines import settings

_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class ModelStore(dg.ConfigurableResource):
    """Checkpoints keyed by model version, never by time or "latest".

    Layout under ``root``::

        <version>/checkpoint/       what dagan_core's Synthesizer.save writes (config + weights +
                                    encoder; no party rows)
        <version>/<name>.json       small pipeline sidecars (e.g. the training summary: party
                                    sizes and class counts, never rows)
        <version>/training_state/   epoch checkpoint of a training in progress (resumed after a
                                    crash; removed once the checkpoint is published, see
                                    pipelines/defs/training/resume.py)

    Folders are published by renaming a hidden staging folder (``.checkpoint-*``); one left by a
    killed writer is removed by :meth:`remove_stale_staging` before the version is trained again.
    """

    root: str | None = Field(
        default=None,
        description="Root folder of the checkpoints; default: settings.model_store_dir() "
        "(DAGAN_VAR_DIR/models).",
    )

    @property
    def root_dir(self) -> Path:
        """Resolved root folder."""
        return Path(self.root) if self.root else settings.model_store_dir()

    def version_dir(self, version: str) -> Path:
        """Folder of one model version.

        Raises:
            ValueError: if ``version`` is not a safe folder name.
        """
        if not _VERSION.match(version or ""):
            raise ValueError(
                f"model version {version!r} is not a valid key (letters, digits, '.', '_', '-'; "
                "must start with a letter or digit)"
            )
        return self.root_dir / version

    def path(self, version: str) -> Path:
        """Checkpoint folder of one model version (passed to ``save``/``load_synthesizer``)."""
        return self.version_dir(version) / "checkpoint"

    @contextlib.contextmanager
    def writing(self, version: str) -> Iterator[Path]:
        """A fresh staging folder that replaces ``path(version)`` only if the block succeeds.

        Readers never see a half-written checkpoint; a failed save keeps the previous one.
        """
        target = self.path(version)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".checkpoint-", dir=target.parent))
        try:
            yield staging
            retired = None
            if target.exists():
                retired = target.with_name(f".retired-{uuid.uuid4().hex}")
                target.rename(retired)
            staging.rename(target)
            if retired is not None:
                shutil.rmtree(retired, ignore_errors=True)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)

    def remove_stale_staging(self, version: str) -> list[str]:
        """Remove staging folders a killed writer left in the version's folder; returns names.

        Only call it while no other process writes this version (the training asset does, before
        it trains). ``.training_state.old`` is kept: dagan_core restores it if a rename was cut
        short.
        """
        folder = self.version_dir(version)
        if not folder.is_dir():
            return []
        removed = []
        for entry in folder.iterdir():
            name = entry.name
            if entry.is_dir() and (
                name.startswith((".checkpoint-", ".retired-"))
                or (name.startswith(".training_state.") and name != ".training_state.old")
            ):
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(name)
        return sorted(removed)

    def exists(self, version: str) -> bool:
        """Whether a checkpoint was saved for ``version``."""
        return self.path(version).exists()

    def versions(self) -> list[str]:
        """Versions that hold a checkpoint, sorted by name."""
        if not self.root_dir.exists():
            return []
        return sorted(p.parent.name for p in self.root_dir.glob("*/checkpoint"))

    def write_json(self, version: str, name: str, payload: Any) -> Path:
        """Write a JSON sidecar next to the checkpoint."""
        target = self.version_dir(version) / f"{name}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str))
        tmp.replace(target)
        return target

    def read_json(self, version: str, name: str) -> Any:
        """Read a JSON sidecar.

        Raises:
            FileNotFoundError: naming the version when it was never trained.
        """
        target = self.version_dir(version) / f"{name}.json"
        if not target.exists():
            raise FileNotFoundError(
                f"model version {version!r} has no {name}.json under {self.root_dir}; "
                "materialize dagan_model for this version first"
            )
        return json.loads(target.read_text())
