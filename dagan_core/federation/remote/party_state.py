"""A remote party's own training state on its own disk: one file per epoch, per training run.

``<state_dir>/<run_id>/epoch-<n>.pt`` holds what :meth:`Party.state_dict` returns after epoch
``n`` (critic weights, optimizer moments, local attention gaps, random generator states, DP
accountant): never a row, and never sent to the coordinator. The two newest epochs of a run are
kept (the coordinator's own checkpoint may lag one epoch behind the party's). States of other
runs are left alone; resuming asks for one run and epoch, and a party that lacks it refuses,
saying what it holds.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import torch

from dagan_core.federation.remote.errors import SetupRefused

KEEP = 2
_EPOCH = re.compile(r"^epoch-(\d+)\.pt$")
_RUN = re.compile(r"^[0-9a-f]{8,64}$")


class PartyStateStore:
    """Epoch states of one party under ``state_dir`` (None: the party keeps none)."""

    def __init__(self, state_dir: str | Path | None, party: str):
        """Use ``state_dir`` (created on first save)."""
        self.root = None if state_dir is None else Path(state_dir)
        self.party = party

    def _run_dir(self, run_id: str) -> Path:
        if not _RUN.match(run_id):
            raise SetupRefused(f"{run_id!r} is not a training run id")
        assert self.root is not None
        return self.root / run_id

    def epochs(self, run_id: str) -> list[int]:
        """Epochs of ``run_id`` saved here, oldest first."""
        if self.root is None:
            return []
        folder = self._run_dir(run_id)
        if not folder.is_dir():
            return []
        found = (_EPOCH.match(p.name) for p in folder.iterdir())
        return sorted(int(x.group(1)) for x in found if x)

    def runs(self) -> list[str]:
        """Training runs with at least one saved epoch."""
        if self.root is None or not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir()
                      if p.is_dir() and _RUN.match(p.name) and self.epochs(p.name))

    def save(self, run_id: str, epoch: int, state: dict[str, Any]) -> None:
        """Write the state of ``epoch`` atomically; drop this run's older epochs."""
        if self.root is None:
            return
        folder = self._run_dir(run_id)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".epoch-{epoch}.pt.tmp"
        torch.save(state, tmp)
        os.replace(tmp, folder / f"epoch-{epoch}.pt")
        for old in self.epochs(run_id)[:-KEEP]:
            (folder / f"epoch-{old}.pt").unlink(missing_ok=True)

    def load(self, run_id: str, epoch: int, device: torch.device) -> dict[str, Any]:
        """The state saved after ``epoch`` of ``run_id``.

        Raises:
            SetupRefused: this party keeps no state, holds none, holds only other runs' states,
                or not that epoch; the message says what it holds.
        """
        where = f"cannot resume training run {run_id} after epoch {epoch}"
        if self.root is None:
            raise SetupRefused(f"{where}: the party keeps no state folder")
        saved = self.epochs(run_id)
        if epoch in saved:
            return torch.load(self._run_dir(run_id) / f"epoch-{epoch}.pt", map_location=device,
                              weights_only=True)
        if saved:
            raise SetupRefused(f"{where}: the party holds epochs {saved} of that run")
        others = self.runs()
        if others:
            raise SetupRefused(f"{where}: the party's state folder {self.root} holds the state "
                               f"of another training run ({', '.join(others)})")
        raise SetupRefused(f"{where}: the party's state folder {self.root} holds no saved "
                           "state")
