"""When a fit stops, and which generator it keeps.

The fit score of an epoch (lower is better) is the plain mean, over the parties that measured
one, of :func:`dagan_core.federation.fit_measures.joint_score`: ``1 - heldout_f1 + 0.1 *
marginal_gap``, from the two scalars each party reports on its own held-out rows (nothing about a
row leaves a party). The held-out F1 sees how columns go with the label, which the marginal gap
alone does not (that one plateaus within a few epochs while utility keeps improving). A plain
mean, not one weighted by probe size: every party's fit counts the same, small parties
included, as the attention that serves them intends. When no party measured an F1 (under DP
the probe is skipped), the score falls back to the parties' mean ``marginal_gap``. With
``patience`` > 0 the fit keeps a copy of the generator(s) of the best epoch and stops once
``patience`` epochs in a row failed to improve the best score by more than ``min_delta`` (never
before ``min_epochs``); the fitted model is the best epoch's. Budgets (``max_steps``,
``max_seconds``) stop it at the end of the epoch that reaches them. The reason is recorded as
:meth:`Stopping.summary` (``stopping.json`` of a saved model).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from dagan_core.config import TrainConfig
from dagan_core.federation.fit_measures import joint_score

EPOCHS = "max_epochs"
PATIENCE = "no_improvement"
STEPS = "max_steps"
SECONDS = "max_seconds"


SCORE = ("mean over parties of 1 - held-out F1 + 0.1 * held-out marginal gap "
         "(lower is better)")
FALLBACK_SCORE = "mean over parties of the held-out marginal gap (lower is better)"


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def fit_score(marginal_gap: dict[str, float],
              heldout_f1: dict[str, float] | None = None) -> float | None:
    """The parties' mean joint score (module docstring); their mean marginal gap when no party
    measured a held-out F1; None when no party measured either (e.g. under DP)."""
    heldout = heldout_f1 or {}
    joint = [joint_score(f1, marginal_gap.get(p)) for p, f1 in heldout.items() if _finite(f1)]
    if joint:
        return float(np.mean(joint))
    values = [v for v in marginal_gap.values() if _finite(v)]
    return float(np.mean(values)) if values else None


def mean_heldout_f1(heldout_f1: dict[str, float] | None) -> float | None:
    """The parties' plain mean held-out F1; None when no party measured one."""
    values = [v for v in (heldout_f1 or {}).values() if _finite(v)]
    return float(np.mean(values)) if values else None


class Stopping:
    """Tracks the fit score, the best epoch and its generator weights, and the budgets."""

    def __init__(self, train: TrainConfig, steps_per_epoch: int):
        """Start before the first epoch."""
        self.train = train
        self.steps_per_epoch = steps_per_epoch
        self.best_epoch: int | None = None
        self.best_score: float | None = None
        self.best_states: list[dict[str, torch.Tensor]] | None = None
        self.since_best = 0
        self.steps = 0
        self.seconds = 0.0
        self.reason: str | None = None
        self.epochs_run = 0
        self.best_heldout_f1: float | None = None
        self.joint = False  # whether any epoch was scored by the joint score

    @property
    def selects(self) -> bool:
        """Whether the best epoch's generator is kept (``patience`` > 0)."""
        return self.train.patience > 0

    def update(self, epoch: int, seconds: float, score: float | None,
               generators: list[torch.nn.Module], heldout_f1: float | None = None) -> str | None:
        """Record a finished epoch, its :func:`fit_score` and its :func:`mean_heldout_f1`;
        return the reason to stop now, or None to go on."""
        self.epochs_run = epoch + 1
        self.joint = self.joint or heldout_f1 is not None
        self.steps += self.steps_per_epoch
        self.seconds += seconds
        improved = score is not None and (
            self.best_score is None or score < self.best_score - self.train.min_delta)
        if improved:
            self.best_epoch, self.best_score, self.since_best = epoch, score, 0
            self.best_heldout_f1 = heldout_f1
            if self.selects:
                self.best_states = [{k: v.detach().clone() for k, v in g.state_dict().items()}
                                    for g in generators]
        else:
            self.since_best += 1
        self.reason = self._reason()
        return self.reason

    def _reason(self) -> str | None:
        t = self.train
        if self.epochs_run >= t.epochs:
            return EPOCHS
        if (self.selects and self.best_score is not None and self.since_best >= t.patience
                and self.epochs_run >= t.min_epochs):
            return PATIENCE
        if t.max_steps is not None and self.steps >= t.max_steps:
            return STEPS
        if t.max_seconds is not None and self.seconds >= t.max_seconds:
            return SECONDS
        return None

    def restore_best(self, generators: list[torch.nn.Module]) -> bool:
        """Load the best epoch's weights into ``generators``; whether anything was loaded."""
        if not self.selects or self.best_states is None:
            return False
        if self.best_epoch == self.epochs_run - 1:
            return False  # the last epoch is the best: the live weights are its weights
        for g, state in zip(generators, self.best_states):
            g.load_state_dict(state)
        return True

    def summary(self) -> dict[str, Any]:
        """Why and when training stopped, and which epoch's generator the model holds."""
        kept = self.epochs_run - 1
        if self.selects and self.best_states is not None:
            kept = int(self.best_epoch)
        return {"reason": self.reason, "epochs_run": self.epochs_run,
                "max_epochs": self.train.epochs, "steps": self.steps,
                "seconds": round(self.seconds, 3), "best_epoch": self.best_epoch,
                "best_score": self.best_score, "best_heldout_f1": self.best_heldout_f1,
                "kept_epoch": kept, "score": SCORE if self.joint else FALLBACK_SCORE,
                "patience": self.train.patience, "min_delta": self.train.min_delta,
                "max_steps": self.train.max_steps, "max_seconds": self.train.max_seconds}

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume (saved with the training checkpoint)."""
        return {"best_epoch": self.best_epoch, "best_score": self.best_score,
                "best_states": self.best_states, "since_best": self.since_best,
                "steps": self.steps, "seconds": self.seconds, "reason": self.reason,
                "epochs_run": self.epochs_run, "best_heldout_f1": self.best_heldout_f1,
                "joint": self.joint}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`; the reason to stop is decided again under this fit's
        settings (a resumed fit may allow more epochs than the one that saved the state)."""
        for key, value in state.items():
            if key != "reason":
                setattr(self, key, value)
        self.reason = self._reason() if self.epochs_run else None
