"""The coordinator's trainer for remote parties: the same coordinator, over the remote transport.

:class:`RemoteTrainer` has the interface of
:class:`~dagan_core.synthesizers.trainers.FederatedTrainer` (``run_epoch``, ``attention``,
``generators``, ``dp_epsilon``, ``weight_noise_epsilon``, ``state_dict``, ``load_state_dict``)
and drives the unchanged :class:`~dagan_core.federation.coordinator.Coordinator`. What it does
not hold is the parties: after each epoch it asks every party to save its own state
(``EpochEnd``), and it keeps what they answer (local-attention weights, DP budget) for the
training statistics. Its ``state_dict`` holds the coordinator's state and the run id and epoch
the parties saved; ``load_state_dict`` asks every party to resume that epoch (``Resume``), which
a party without that state refuses.
"""

from __future__ import annotations

import logging
from typing import Any

import torch

from dagan_core.errors import DAGANError
from dagan_core.federation import coordinator as coord
from dagan_core.federation.remote import control as c
from dagan_core.federation.remote.errors import PartyUnavailableError

logger = logging.getLogger(__name__)


class RemoteTrainer:
    """Coordinator + remote transport (see module docstring)."""

    def __init__(self, coordinator: coord.Coordinator, transport: Any, run_id: str, *,
                 on_party_lost: str = "fail"):
        """Train ``coordinator``'s generator against the parties behind ``transport``.

        ``on_party_lost``: "fail" (a party that does not answer within the transport's retry
        time fails the run) or "continue" (train on without it, see :meth:`lose`).
        """
        if on_party_lost not in ("fail", "continue"):
            raise DAGANError(f"on_party_lost must be 'fail' or 'continue', not {on_party_lost!r}")
        self.coordinator = coordinator
        self.transport = transport
        self.run_id = run_id
        self.names = [p.name for p in coordinator.parties]
        self.epoch = 0  # the next epoch to run
        self._probs: dict[str, list[float] | None] = dict.fromkeys(self.names)
        self._dp: dict[str, list[float] | None] = dict.fromkeys(self.names)
        #: parties left out of the training: name -> {"epoch", "step", "reason"}
        self.lost: dict[str, dict[str, Any]] = {}
        if on_party_lost == "continue":
            coordinator.on_lost = self.lose

    def lose(self, exc: Exception) -> bool:
        """Leave out the party ``exc`` (an unavailable party) names, and say so; False (the
        run fails) for any other error, or when no other party would be left."""
        party = getattr(exc, "party", None)
        if not isinstance(exc, PartyUnavailableError) or party not in self.names:
            return False
        if len(self.names) == 1:
            return False
        self.lost[party] = {"epoch": self.epoch, "step": exc.step, "reason": str(exc)}
        logger.warning("party %r lost at epoch %d (%s); training continues without it on %s; "
                       "its rows are left out of the release mix", party, self.epoch,
                       exc.step, ", ".join(n for n in self.names if n != party))
        self.names = [n for n in self.names if n != party]
        self.coordinator.drop_party(party)
        self._probs.pop(party, None)
        self._dp.pop(party, None)
        return True

    def _control_all(self, make) -> None:
        for name in list(self.names):
            try:
                reply = self.transport.control(name, make())
            except PartyUnavailableError as exc:
                if self.coordinator.on_lost is None or not self.lose(exc):
                    raise
                continue
            self._probs[name], self._dp[name] = reply.label_probs, reply.dp

    def run_epoch(self, steps: int) -> dict[str, Any]:
        """One epoch of ``steps`` generator steps; then every party saves its state."""
        raw = self.coordinator.run_epoch(steps)
        self._control_all(lambda: c.EpochEnd(self.run_id, self.epoch))
        self.epoch += 1
        return raw

    def close(self) -> None:
        """Close the connections to the parties."""
        self.transport.close()

    def attention(self) -> tuple[dict[str, float], dict[str, list[float] | None]]:
        """Current alpha per party and pi per party (as the parties reported it)."""
        alpha = dict(zip(self.names, map(float, self.coordinator.alpha)))
        return alpha, self.coordinator.asked_mixes() or dict(self._probs)

    def generators(self) -> list[torch.nn.Module]:
        """The generator."""
        return [self.coordinator.released]

    def dp_epsilon(self) -> dict[str, tuple[float, float]] | None:
        """Party -> (epsilon spent, delta) as reported; None when DP is off."""
        if any(v is None for v in self._dp.values()):
            return None
        return {p: (v[0], v[1]) for p, v in self._dp.items()}

    def weight_noise_epsilon(self) -> float | None:
        """None: no weights are shared."""
        return None

    def state_dict(self) -> dict[str, Any]:
        """The coordinator's state and the run and epoch the parties saved (no party state)."""
        return {"coordinator": self.coordinator.state_dict(),
                "remote": {"run_id": self.run_id, "epoch": self.epoch - 1, "lost": self.lost}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the coordinator and have every party resume the same epoch.

        Raises:
            DAGANError: the checkpoint is not one of this training run's.
            PartyRefusedError: a party does not hold its state of that run and epoch.
        """
        saved = state.get("remote")
        if saved is None or saved["run_id"] != self.run_id:
            what = "in-process training" if saved is None else f"run {saved['run_id']}"
            raise DAGANError(f"the checkpoint to resume is of {what}, not of training run "
                             f"{self.run_id} (another configuration, encoder, contract or "
                             "set of parties)")
        epoch = int(saved["epoch"])
        for party, what in saved.get("lost", {}).items():  # left out before the checkpoint
            self.lost[party] = what
            self.names.remove(party)
            self.coordinator.drop_party(party)
        self._control_all(lambda: c.Resume(self.run_id, epoch))
        self.coordinator.load_state_dict(state["coordinator"])
        self.epoch = epoch + 1
