"""The benchmark's utility curve: a cheap TSTR macro-F1 every few epochs while a variant trains."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from dagan_core.synthesizers.base import EpochStats, Synthesizer

# the model behind the utility curve: one histogram gradient boosting (the same feature
# pipeline as the TSTR table), fast enough to run every few epochs
CURVE_MODELS = ("hgb",)


class UtilityCurve:
    """An ``on_epoch_end`` callback recording a cheap TSTR macro-F1 every ``every`` epochs.

    At every ``every``-th epoch and at the last one it samples as many rows as the parties hold
    (one fixed seed, so the epochs differ only by the model), fits :data:`CURVE_MODELS` on them
    and scores macro-F1 on the real test set. ``points`` holds ``[epoch, macro_f1, seconds]``
    with epochs counted from 1 and ``seconds`` the training wall time when the epoch ended:
    everything since :meth:`start` (the fit's set-up, e.g. the encoder, and the epochs so far)
    minus the curve's own evaluations. The attribute ``seconds`` is the time spent in those
    evaluations, which the caller subtracts from the fit.
    """

    def __init__(self, synth: Synthesizer, *, every: int, epochs: int, n_rows: int,
                 test: pd.DataFrame, label: str, discrete_columns: Sequence[str], seed: int):
        """Prepare the callback; nothing is evaluated before the first epoch ends."""
        self.synth = synth
        self.every = every
        self.epochs = epochs
        self.n_rows = n_rows
        self.test = test
        self.label = label
        self.discrete_columns = list(discrete_columns)
        self.seed = seed
        self.points: list[list[float]] = []
        self.seconds = 0.0
        self.started: float | None = None

    def start(self) -> None:
        """Mark the start of the fit: the points' seconds count from here."""
        self.started = time.perf_counter()

    def __call__(self, stats: EpochStats) -> None:
        """Score the current generator if this epoch is on the schedule."""
        from dagan_core.metrics import ml_utility

        done = stats.epoch + 1
        if done % self.every and done != self.epochs:
            return
        start = time.perf_counter()
        trained = start - (self.started if self.started is not None else start) - self.seconds
        # As the release: a young model that cannot yet make a party's classes is scored on
        # the rows it makes.
        rows = self.synth.sample(self.n_rows, seed=self.seed + 2000, strict=False)
        report = ml_utility(rows.drop(columns="party"), self.test, self.label,
                            self.discrete_columns, models=CURVE_MODELS, seed=self.seed)
        self.points.append([done, report.mean["macro_f1"], trained])
        self.seconds += time.perf_counter() - start
