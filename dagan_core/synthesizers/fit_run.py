"""Fitting, step by step: ``begin_fit`` prepares the data and the trainer, ``FitRun`` trains.

``Synthesizer.fit`` is ``begin_fit`` followed by ``run_epoch`` until no epoch is left and
``finish``. Tools that need the trainer itself (to count its operations, say) use the same steps.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from dagan_core.config import SynthesizerConfig
from dagan_core.data.encoder import TableEncoder
from dagan_core.data.schema import validate_table
from dagan_core.data.summary import PartySummary, summarize_party
from dagan_core.errors import InvalidDataError
from dagan_core.federation.pack_rule import resolve_pac
from dagan_core.prepare import agree_schema, build_encoder, check_prepared, party_schema
from dagan_core.synthesizers.cells import describe, probe_cells
from dagan_core.synthesizers.checkpoint import load_training_state, save_training_state
from dagan_core.synthesizers.fitted_model import FittedModel
from dagan_core.synthesizers.privacy_report import fedsyn_epsilon, privacy_report
from dagan_core.synthesizers.stopping import Stopping, fit_score, mean_heldout_f1
from dagan_core.synthesizers.trainers import make_trainer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EpochStats:
    """Per-epoch statistics handed to ``on_epoch_end`` and kept in ``history``.

    ``dp_epsilon`` / ``dp_delta``: with differential privacy on, each party's epsilon spent so
    far by its critic (Opacus RDP accountant) and the delta it holds at; None when DP is off.
    ``fedsyn_epsilon_per_round`` / ``fedsyn_epsilon``: with FedSyn's weight noise on, the epsilon
    of one FedAvg round and the epsilon spent so far (rounds composed sequentially); else None.
    ``marginal_gap`` / ``heldout_f1``: each party's held-out marginal gap and the macro-F1 on its
    held-out rows of a classifier trained on the fakes (``FitReport``); ``fit_score``: the
    stopping rule's score of the epoch (:func:`dagan_core.synthesizers.stopping.fit_score`: the
    parties' mean ``1 - heldout_f1 + 0.1 * marginal_gap``, or their mean marginal gap when no
    party measured an F1; None when neither was measured).
    ``unproducible_cells``: in the last epoch's record once ``fit`` has finished, the (party,
    label class) cells the generator made none of in the end-of-fit probe; None before.
    ``lost_parties``: remote parties left out of the training so far (``on_party_lost=
    "continue"``): name -> the epoch and step from which it took no part, and why; else None.
    """

    epoch: int
    seconds: float
    generator_loss: float
    cond_loss: float
    critic_loss: dict[str, float]
    wasserstein: dict[str, float]
    gradient_penalty: dict[str, float]
    alpha: dict[str, float]
    pi: dict[str, dict[str, float]]
    fit_gap: dict[str, float]
    bytes_exchanged: int
    dp_epsilon: dict[str, float] | None = None
    dp_delta: dict[str, float] | None = None
    fedsyn_epsilon_per_round: float | None = None
    fedsyn_epsilon: float | None = None
    marginal_gap: dict[str, float | None] | None = None
    fit_score: float | None = None
    heldout_f1: dict[str, float | None] | None = None
    unproducible_cells: list[dict[str, str]] | None = None
    lost_parties: dict[str, dict[str, Any]] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


class FitRun:
    """A fit in progress (made by :func:`begin_fit`).

    Attributes:
        trainer: the strategy's trainer; its generator(s) are the ones being trained.
        encoder: the global encoder the trainer's rows were encoded with.
        summaries: party name -> its summary.
        history: the statistics of the epochs run so far (resumed ones included).
    """

    def __init__(self, config: SynthesizerConfig, device: torch.device, trainer: Any,
                 steps: int, *, encoder: TableEncoder, summaries: dict[str, PartySummary],
                 on_epoch_end: Callable[[EpochStats], None] | None,
                 checkpoint_dir: str | Path | None,
                 publish: Callable[[FittedModel], None] | None):
        """Start at the first epoch, or after the last one saved in ``checkpoint_dir``.

        ``publish`` receives the model before each ``on_epoch_end`` call and at ``finish`` (the
        synthesizer samples from what it receives).
        """
        self.trainer = trainer
        self.config = config
        self.device = device
        self.history: list[dict[str, Any]] = []
        self._publish = publish or (lambda model: None)
        self._steps = steps
        self.encoder = encoder
        self.summaries = summaries
        self._on_epoch_end = on_epoch_end
        self._checkpoint_dir = checkpoint_dir
        self.stopping = Stopping(config.train, steps)
        self._epoch = self._resume()

    @property
    def epochs_left(self) -> int:
        """Epochs still to run (0 once the stopping rule or a budget stopped the fit)."""
        if self.stopping.reason is not None:
            return 0
        return max(0, self.config.train.epochs - self._epoch)

    def _resume(self) -> int:
        if self._checkpoint_dir is None:
            return 0
        found = load_training_state(self._checkpoint_dir, self.device)
        if found is None:
            return 0
        epoch, state, history = found
        stopping = state.pop("stopping", None)
        self.trainer.load_state_dict(state)
        if stopping is not None:
            self.stopping.load_state_dict(stopping)
        self.history = history
        logger.info("resuming after epoch %d from %s", epoch, self._checkpoint_dir)
        return epoch + 1

    def model(self, privacy: dict[str, Any] | None = None) -> FittedModel:
        """The model as it stands (its generators are the live ones, not copies)."""
        return FittedModel.from_generators(
            self.config, self.encoder, self.summaries, self.trainer.generators(), self.device,
            history=self.history, privacy=privacy, stopping=self.stopping.summary())

    def run_epoch(self) -> EpochStats:
        """Train one epoch; record, checkpoint and report it."""
        epoch = self._epoch
        raw = self.trainer.run_epoch(self._steps)
        stats = self._epoch_stats(epoch, raw)
        self.history.append(stats.to_dict())
        self._epoch += 1
        reason = self.stopping.update(epoch, stats.seconds, stats.fit_score,
                                      self.trainer.generators(),
                                      mean_heldout_f1(stats.heldout_f1))
        logger.info("epoch %d: G %.3f cond %.3f fit %s (%.2fs)", epoch, stats.generator_loss,
                    stats.cond_loss, stats.fit_score, stats.seconds)
        if reason is not None and reason != "max_epochs":
            logger.info("training stops after epoch %d: %s", epoch, reason)
        if self._checkpoint_dir is not None:
            state = {**self.trainer.state_dict(), "stopping": self.stopping.state_dict()}
            save_training_state(self._checkpoint_dir, epoch, state, self.history)
        if self._on_epoch_end is not None:
            self._publish(self.model())  # sampling inside the callback is allowed
            self._on_epoch_end(stats)
        return stats

    def finish(self) -> FittedModel:
        """The fitted model, with its privacy accounting (also handed to ``publish``)."""
        if self.stopping.reason is None:
            self.stopping.reason = "stopped_by_caller" if self.epochs_left else "max_epochs"
        if self.stopping.restore_best(self.trainer.generators()):
            logger.info("the model keeps the generator of epoch %d (fit score %.4f)",
                        self.stopping.best_epoch, self.stopping.best_score)
        model = self.model(privacy_report(self.config, self.trainer, self._epoch))
        model.cells = probe_cells(model)
        if self.history:
            self.history[-1]["unproducible_cells"] = model.cells["unproducible"]
        if model.cells["unproducible"]:
            logger.warning(describe(model.cells))
        close = getattr(self.trainer, "close", None)
        if close is not None:  # a trainer holding connections to remote parties
            close()
        self._publish(model)
        return model

    def _epoch_stats(self, epoch: int, raw: dict[str, Any]) -> EpochStats:
        alpha, pi = self.trainer.attention()
        classes = [str(v) for v in self.encoder.vocab[self.encoder.schema.label]]
        critic = raw["critic"]
        spent = self.trainer.dp_epsilon()
        per_round = self.trainer.weight_noise_epsilon()
        return EpochStats(
            epoch=epoch, seconds=raw["seconds"], generator_loss=raw["generator_loss"],
            cond_loss=raw["cond_loss"],
            critic_loss={p: c["loss"] for p, c in critic.items()},
            wasserstein={p: c["wasserstein"] for p, c in critic.items()},
            gradient_penalty={p: c["gradient_penalty"] for p, c in critic.items()},
            alpha=alpha,
            pi={p: dict(zip(classes, v)) for p, v in pi.items() if v is not None},
            fit_gap=raw["fit"]["gap"], bytes_exchanged=int(raw["bytes"]),
            dp_epsilon=None if spent is None else {p: e for p, (e, _) in spent.items()},
            dp_delta=None if spent is None else {p: d for p, (_, d) in spent.items()},
            fedsyn_epsilon_per_round=per_round,
            fedsyn_epsilon=fedsyn_epsilon(self.config, per_round, epoch + 1),
            marginal_gap=(marginal := _measured(raw["fit"].get("marginal_gap", {}))),
            heldout_f1=(heldout := _measured(raw["fit"].get("heldout_f1", {}))),
            fit_score=fit_score(marginal, heldout),
            lost_parties=dict(getattr(self.trainer, "lost", None) or {}) or None,
        )


def _measured(values: Mapping[str, float]) -> dict[str, float | None]:
    """Each party's measure, None where it measured nothing (NaN), so that a saved and loaded
    history equals the one in memory."""
    return {p: v if v is not None and math.isfinite(v) else None for p, v in values.items()}


def _prepare(config: SynthesizerConfig, parties: Mapping[str, pd.DataFrame], label: str,
             discrete_columns: Sequence[str] | None, encoder: TableEncoder | None,
             summaries: Mapping[str, PartySummary] | None
             ) -> tuple[dict[str, pd.DataFrame], TableEncoder, dict[str, PartySummary]]:
    """Checked tables, encoder and summaries (computed here unless passed in)."""
    names = [str(p) for p in parties]
    declared = {p: party_schema(p, parties[p], label, discrete_columns) for p in names}
    schema = encoder.schema if encoder is not None else agree_schema(declared, label)
    tables = {p: validate_table(p, parties[p], schema) for p in names}
    if summaries is None:
        summaries = {p: summarize_party(p, tables[p], schema, config.model.max_modes,
                                        config.train.seed) for p in names}
    else:  # in party order (the encoder merges them in that order)
        summaries = {**{p: summaries[p] for p in names if p in summaries}, **summaries}
    if encoder is None:
        encoder = build_encoder(schema, summaries.values(), config)
    check_prepared(names, encoder, summaries)
    return tables, encoder, summaries


def begin_fit(config: SynthesizerConfig, device: torch.device,
              parties: Mapping[str, pd.DataFrame], label: str,
              discrete_columns: Sequence[str] | None = None, *,
              encoder: TableEncoder | None = None,
              summaries: Mapping[str, PartySummary] | None = None,
              on_epoch_end: Callable[[EpochStats], None] | None = None,
              checkpoint_dir: str | Path | None = None,
              publish: Callable[[FittedModel], None] | None = None) -> FitRun:
    """Check and encode the parties' tables and build the trainer (see ``Synthesizer.fit``).

    ``parties`` may instead be a remote federation
    (:class:`dagan_core.federation.remote.federation.RemoteFederation`): its parties hold their
    tables on their own hosts and the coordinator trains through the remote transport.
    """
    if getattr(parties, "remote", False):
        ready = parties.prepare(config, device, label, discrete_columns, encoder=encoder,
                                summaries=summaries)
        return FitRun(ready.config, device, ready.trainer, ready.steps, encoder=ready.encoder,
                      summaries=ready.summaries, on_epoch_end=on_epoch_end,
                      checkpoint_dir=checkpoint_dir, publish=publish)
    if not isinstance(parties, Mapping) or not parties:
        raise InvalidDataError("parties must be a non-empty mapping of name -> DataFrame")
    seeds = np.random.SeedSequence(config.train.seed)
    tables, encoder, summaries = _prepare(config, parties, label, discrete_columns, encoder,
                                          summaries)
    config = resolve_pac(config, summaries.values(), encoder.schema.label)
    encoded = {p: encoder.encode(t, party=p) for p, t in tables.items()}
    del tables
    logger.info("encoded %d parties, %d rows, width %d", len(encoded),
                sum(len(x) for x in encoded.values()), encoder.layout.data_dim)
    trainer = make_trainer(encoded, encoder.layout, config, seeds.spawn(1)[0], device)
    del encoded
    total = sum(s.n_rows for s in summaries.values())
    steps = max(1, total // config.train.batch_size)
    return FitRun(config, device, trainer, steps, encoder=encoder, summaries=summaries,
                  on_epoch_end=on_epoch_end, checkpoint_dir=checkpoint_dir, publish=publish)
