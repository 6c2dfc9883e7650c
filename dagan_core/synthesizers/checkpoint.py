"""Checkpoints: data, not pickles.

A saved model (:class:`FittedModel`) is a folder with
- ``config.json``: the full :class:`SynthesizerConfig`;
- ``encoder.json``: schema, category vocabularies and global mixtures;
- ``summaries.json``: each party's summary (row count, category counts, mixture parameters);
- ``generators.pt``: generator state dicts (``torch.load(weights_only=True)``-safe);
- ``history.json``: per-epoch statistics;
- ``privacy.json``: with differential privacy on, the epsilon each party's critic spent and its
  delta (``null`` when DP is off);
- ``stopping.json``: why and when training stopped and which epoch's generator was kept.
- ``cells.json``: the end-of-fit probe of the (party, label class) cells the generator makes
  (share of probe rows per cell, the unproducible ones); absent from older models.
No party row is ever written. Folders are written to a temporary sibling and renamed into place,
so a half-written checkpoint is never visible; replacing one renames the old folder to
``.<name>.old`` first, and a process killed between the two renames leaves that folder, which the
next save or load restores.

A training checkpoint (``checkpoint_dir`` of ``fit``) holds ``state.pt`` (coordinator state and
each party's own critic/optimizer/attention state) and ``progress.json``; it lets training resume.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

from dagan_core.config import SynthesizerConfig
from dagan_core.data.encoder import TableEncoder
from dagan_core.data.summary import PartySummary
from dagan_core.errors import DAGANError
from dagan_core.synthesizers.fitted_model import FittedModel

FORMAT_VERSION = 1


def _recover(path: Path) -> None:
    """Finish a replacement that was cut short between its two renames (see ``_atomic_dir``)."""
    old = path.with_name(f".{path.name}.old")
    if not path.exists() and old.is_dir():
        os.replace(old, path)


def _atomic_dir(path: Path, write) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _recover(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        write(tmp)
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _dump(obj: Any, path: Path) -> None:
    path.write_text(json.dumps(obj, indent=1, default=str))


def save_model(model: FittedModel, path: str | Path) -> None:
    """Write a fitted model (see module docstring)."""

    def write(tmp: Path) -> None:
        _dump({"format_version": FORMAT_VERSION, **model.config.to_dict()}, tmp / "config.json")
        _dump(model.encoder.to_dict(), tmp / "encoder.json")
        _dump([s.to_dict() for s in model.summaries.values()], tmp / "summaries.json")
        _dump(model.history, tmp / "history.json")
        _dump(model.privacy, tmp / "privacy.json")
        _dump(model.stopping, tmp / "stopping.json")
        _dump(model.cells, tmp / "cells.json")
        torch.save({"generators": model.generator_states(),
                    "code_generator": list(model.code_generator)}, tmp / "generators.pt")

    _atomic_dir(Path(path), write)


def load_model(path: str | Path, device: str = "cpu") -> FittedModel:
    """Load a model written by :func:`save_model` onto ``device`` ("auto", "cpu" or "cuda")."""
    from dagan_core.federation.coordinator import make_generator
    from dagan_core.synthesizers.device import resolve_device

    path = Path(path)
    _recover(path)
    if not (path / "config.json").exists():
        raise DAGANError(f"no saved synthesizer in {path}")
    raw = json.loads((path / "config.json").read_text())
    if raw.pop("format_version", None) != FORMAT_VERSION:
        raise DAGANError(f"{path} was written by an incompatible version")
    config = SynthesizerConfig.from_dict(raw).replace(device=device)
    dev = resolve_device(config.train.device)
    encoder = TableEncoder.from_dict(json.loads((path / "encoder.json").read_text()))
    summaries = [PartySummary.from_dict(d)
                 for d in json.loads((path / "summaries.json").read_text())]
    privacy = None
    if (path / "privacy.json").exists():  # absent from models saved before DP existed
        privacy = json.loads((path / "privacy.json").read_text())
    stopping = None
    if (path / "stopping.json").exists():  # absent from models saved before it was recorded
        stopping = json.loads((path / "stopping.json").read_text())
    cells = None
    if (path / "cells.json").exists():  # absent from models saved before the probe existed
        cells = json.loads((path / "cells.json").read_text())
    weights = torch.load(path / "generators.pt", map_location=dev, weights_only=True)
    gen = torch.Generator(device=dev)
    generators = []
    for state in weights["generators"]:
        g = make_generator(encoder.layout, len(summaries), config, dev, gen)
        g.load_state_dict(state)
        g.eval()
        generators.append(g)
    return FittedModel(config, encoder, {s.party: s for s in summaries}, generators,
                       list(weights["code_generator"]), dev,
                       history=json.loads((path / "history.json").read_text()), privacy=privacy,
                       stopping=stopping, cells=cells)


def save_training_state(directory: str | Path, epoch: int, state: dict[str, Any],
                        history: list[dict[str, Any]]) -> None:
    """Write the epoch checkpoint used to resume training."""

    def write(tmp: Path) -> None:
        torch.save(state, tmp / "state.pt")
        _dump({"epoch": epoch, "history": history}, tmp / "progress.json")

    _atomic_dir(Path(directory) / "training_state", write)


def load_training_state(directory: str | Path, device: torch.device
                        ) -> tuple[int, dict[str, Any], list[dict[str, Any]]] | None:
    """Return (last finished epoch, state, history), or None if there is no checkpoint."""
    folder = Path(directory) / "training_state"
    _recover(folder)
    if not (folder / "progress.json").exists():
        return None
    progress = json.loads((folder / "progress.json").read_text())
    state = torch.load(folder / "state.pt", map_location=device, weights_only=True)
    return int(progress["epoch"]), state, progress["history"]
