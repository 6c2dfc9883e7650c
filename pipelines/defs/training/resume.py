"""Resumable training: a model version's epoch checkpoint lives in the model store.

``dagan_core``'s ``fit(..., checkpoint_dir=...)`` writes an epoch checkpoint after every epoch
(atomically: temporary folder, then rename) and resumes from it, with the same result as an
uninterrupted run of the same seed. The training asset points it at the version's folder, so the
state sits at ``<model_store>/<version>/training_state/`` and re-materializing a partition after a
crash (killed process, lost machine) continues after the last finished epoch.

A state is only resumed by the training it belongs to: ``training_state.key`` holds a fingerprint
of the configuration and of every party's validated rows; a state with another fingerprint (new
hyperparameters, new data) is discarded and training starts from epoch 0.

The state is removed once the version's checkpoint and training summary are published. It holds
each party's critic and optimizer state, which in a deployment never leaves the party, and nothing
in it is needed after training: the published checkpoint carries only the generator, the encoder
and the party summaries.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.resources.model_store import ModelStore

logger = logging.getLogger(__name__)

STATE = "training_state"  # the folder name dagan_core writes under checkpoint_dir
KEY_FILE = "training_state.key"


def training_fingerprint(
    config: Mapping[str, Any],
    tables: Mapping[str, pd.DataFrame],
    label: str,
    discrete_columns: Sequence[str],
) -> str:
    """SHA-256 of the configuration, the schema roles and every party's rows (in order)."""
    digest = hashlib.sha256()
    head = {"config": dict(config), "label": label, "discrete": list(discrete_columns)}
    digest.update(json.dumps(head, sort_keys=True, default=str).encode())
    for party, table in tables.items():
        digest.update(party.encode() + b"\0")
        digest.update(json.dumps([[str(c), str(t)] for c, t in table.dtypes.items()]).encode())
        digest.update(pd.util.hash_pandas_object(table, index=False).to_numpy().tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class ResumableTraining:
    """Where one version's training keeps its epoch checkpoint, and whether it resumes."""

    store: ModelStore
    version: str
    fingerprint: str
    resumed_after_epoch: int | None

    @property
    def checkpoint_dir(self) -> Path:
        """What to pass to ``fit(checkpoint_dir=...)``."""
        return self.store.version_dir(self.version)

    @property
    def state_dir(self) -> Path:
        return self.checkpoint_dir / STATE

    @classmethod
    def open(cls, store: ModelStore, version: str, fingerprint: str) -> ResumableTraining:
        """Keep a matching state from an interrupted run; discard any other one.

        Also removes staging folders that a killed writer left in the version's folder.
        """
        folder = store.version_dir(version)
        store.remove_stale_staging(version)
        state, key = folder / STATE, folder / KEY_FILE
        progress = state / "progress.json"
        resumed = None
        if progress.is_file() and key.is_file() and key.read_text().strip() == fingerprint:
            resumed = int(json.loads(progress.read_text())["epoch"])
        else:
            if state.exists():
                logger.warning(
                    "model version %s: discarding a training state of other settings or data",
                    version,
                )
            shutil.rmtree(state, ignore_errors=True)
            folder.mkdir(parents=True, exist_ok=True)
            tmp = key.with_name(key.name + ".tmp")
            tmp.write_text(fingerprint + "\n")
            tmp.replace(key)
        return cls(store, version, fingerprint, resumed)

    def finish(self) -> None:
        """Training is published: drop the state (see module docstring)."""
        shutil.rmtree(self.state_dir, ignore_errors=True)
        (self.checkpoint_dir / KEY_FILE).unlink(missing_ok=True)
