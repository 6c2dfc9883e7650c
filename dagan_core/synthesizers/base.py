"""The synthesizer: fit on several parties' tables, sample synthetic rows.

``fit`` plays the deployment harness: it hands each table to the party that owns it (the
party validates, summarises and encodes it), merges the summaries into the global encoder, and
runs the strategy's trainer. After fitting, the synthesizer keeps only the generator(s), the
encoder and the parties' summary counts — no party row.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from dagan_core.config import SynthesizerConfig
from dagan_core.data.encoder import TableEncoder
from dagan_core.data.schema import declare_columns, merge_declarations, validate_table
from dagan_core.data.summary import PartySummary, summarize_party
from dagan_core.errors import InvalidDataError, NotFittedError
from dagan_core.synthesizers.sampling import sample_rows
from dagan_core.synthesizers.trainers import FederatedTrainer, LocalTrainer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EpochStats:
    """Per-epoch statistics handed to ``on_epoch_end`` and kept in ``history``.

    ``dp_epsilon`` / ``dp_delta``: with differential privacy on, each party's epsilon spent so
    far by its critic (Opacus RDP accountant) and the delta it holds at; None when DP is off.
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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def resolve_device(name: str) -> torch.device:
    """Map "auto" | "cpu" | "cuda" to a device (auto picks CUDA when present)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise InvalidDataError("device='cuda' was asked for but no CUDA device is available")
    return torch.device(name)


class Synthesizer:
    """Common fit/sample/save API of every strategy (see ``make_synthesizer``)."""

    def __init__(self, config: SynthesizerConfig):
        """Create an unfitted synthesizer."""
        self.config = config
        self.device = resolve_device(config.train.device)
        self.encoder: TableEncoder | None = None
        self.summaries: dict[str, PartySummary] = {}
        self.history: list[dict[str, Any]] = []
        self._generators: list[torch.nn.Module] = []
        self._code_generator: list[int] = []
        self._sample_calls = 0
        self.epsilon_per_round = 0.0
        self.privacy: dict[str, Any] | None = None

    # ---- fitting ------------------------------------------------------------------------------
    def fit(
        self, parties: Mapping[str, pd.DataFrame], label: str,
        discrete_columns: Sequence[str] | None = None, *,
        on_epoch_end: Callable[[EpochStats], None] | None = None,
        checkpoint_dir: str | Path | None = None,
    ) -> Synthesizer:
        """Train on the parties' tables.

        Args:
            parties: party name -> table; all tables share one schema.
            label: the label column (always discrete).
            discrete_columns: discrete columns; inferred from dtypes when None.
            on_epoch_end: called with an :class:`EpochStats` after every epoch; inside it the
                synthesizer can already ``sample`` from the current generator(s) (to follow
                utility over epochs), which leaves the training trajectory unchanged.
            checkpoint_dir: where to keep an epoch checkpoint; if one is there, training resumes
                from it (same seed -> same result as an uninterrupted run).

        Raises:
            InvalidDataError: a table breaks the schema; the message names party, column, value.
        """
        if not isinstance(parties, Mapping) or not parties:
            raise InvalidDataError("parties must be a non-empty mapping of name -> DataFrame")
        cfg = self.config
        seeds = np.random.SeedSequence(cfg.train.seed)
        names = [str(p) for p in parties]
        declared = {p: declare_columns(p, parties[p], label, discrete_columns) for p in names}
        schema = merge_declarations(declared, label)
        tables = {p: validate_table(p, parties[p], schema) for p in names}
        summaries = [summarize_party(p, tables[p], schema, cfg.model.max_modes, cfg.train.seed)
                     for p in names]
        self.encoder = TableEncoder.from_summaries(schema, summaries, cfg.model.max_modes,
                                                   cfg.train.seed)
        self.summaries = {s.party: s for s in summaries}
        encoded = {p: self.encoder.encode(tables[p], party=p) for p in names}
        del tables
        logger.info("encoded %d parties, %d rows, width %d", len(names),
                    sum(len(x) for x in encoded.values()), self.encoder.layout.data_dim)
        trainer = self._make_trainer(encoded, seeds.spawn(1)[0])
        del encoded
        total = sum(s.n_rows for s in summaries)
        steps = max(1, total // cfg.train.batch_size)
        start = self._resume(trainer, checkpoint_dir)
        for epoch in range(start, cfg.train.epochs):
            raw = trainer.run_epoch(steps)
            stats = self._epoch_stats(epoch, raw, trainer)
            self.history.append(stats.to_dict())
            logger.info("epoch %d: G %.3f cond %.3f (%.2fs)", epoch, stats.generator_loss,
                        stats.cond_loss, stats.seconds)
            if checkpoint_dir is not None:
                from dagan_core.checkpoint import save_training_state

                save_training_state(checkpoint_dir, epoch, trainer.state_dict(), self.history)
            if on_epoch_end is not None:
                self._use_generators(trainer)
                on_epoch_end(stats)
        self._use_generators(trainer)
        self.epsilon_per_round = getattr(trainer, "epsilon_per_round", 0.0)
        self.privacy = self._privacy_report(trainer)
        return self

    def _privacy_report(self, trainer: Any) -> dict[str, Any] | None:
        """The differential-privacy figures saved with the model (None when DP is off)."""
        spent = trainer.dp_epsilon()
        if spent is None:
            return None
        priv = self.config.privacy
        return {
            "mechanism": "DP-SGD of each party's critic (per-pack clipping, Gaussian noise)",
            "accountant": "opacus.accountants.RDPAccountant",
            "sampling": "fixed-size batches without replacement, accounted as Poisson with "
                        "q = rows per step / training rows (an approximation)",
            "noise_multiplier": priv.dp_noise_multiplier,
            "max_grad_norm": priv.dp_max_grad_norm,
            "epsilon": {p: e for p, (e, _) in spent.items()},
            "delta": {p: d for p, (_, d) in spent.items()},
            "covers": "each party's critic's use of its real rows in training steps; "
                      "not the party summaries, the conditions or the training statistics "
                      "(docs/federation.md, section 5)",
        }

    def _use_generators(self, trainer: Any) -> None:
        """Sample from the trainer's generator(s) (they are the live ones, not copies)."""
        self._generators = trainer.generators()
        self._code_generator = ([0] * len(self.summaries) if len(self._generators) == 1
                                else list(range(len(self.summaries))))

    def _make_trainer(self, encoded: dict[str, np.ndarray], seeds: np.random.SeedSequence):
        layout = self.encoder.layout
        if self.config.strategy in ("local", "fedsyn"):
            return LocalTrainer(encoded, layout, self.config, seeds, self.device,
                                average=self.config.strategy == "fedsyn")
        return FederatedTrainer(encoded, layout, self.config, seeds, self.device)

    def _resume(self, trainer: Any, checkpoint_dir: str | Path | None) -> int:
        if checkpoint_dir is None:
            return 0
        from dagan_core.checkpoint import load_training_state

        found = load_training_state(checkpoint_dir, self.device)
        if found is None:
            return 0
        epoch, state, history = found
        trainer.load_state_dict(state)
        self.history = history
        logger.info("resuming after epoch %d from %s", epoch, checkpoint_dir)
        return epoch + 1

    def _epoch_stats(self, epoch: int, raw: dict[str, Any], trainer: Any) -> EpochStats:
        alpha, pi = trainer.attention()
        classes = [str(v) for v in self.encoder.vocab[self.encoder.schema.label]]
        critic = raw["critic"]
        spent = trainer.dp_epsilon()
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
        )

    # ---- sampling -----------------------------------------------------------------------------
    @property
    def parties(self) -> list[str]:
        """Names of the parties the model was fitted on."""
        return list(self.summaries)

    def sample(
        self, n: int, *, party: str | None = None,
        conditions: Mapping[str, object] | None = None, seed: int | None = None,
        strict: bool = True,
    ) -> pd.DataFrame:
        """Generate ``n`` rows with the training columns plus ``party``.

        Args:
            n: number of rows.
            party: only this party's distribution; None draws parties in proportion to their
                sizes (or, with conditions, to how many rows of the asked value they hold).
            conditions: discrete column -> value that every row must have.
            seed: same seed -> same rows; None derives a fresh seed from the training seed.
            strict: True raises when the model does not make the asked labels or values within
                the allowed regeneration rounds; False keeps what it made and counts the misses
                in ``attrs["unmet_rows"]`` (release rows with another label, or rows missing
                from a conditional call).

        Raises:
            ConditionError: unknown column or value, a continuous column, a (party, value)
                combination the party never had (the message lists the parties that have it),
                or, when strict, a model that does not obey its conditions.
        """
        if self.encoder is None:
            raise NotFittedError("fit the synthesizer (or load a checkpoint) before sampling")
        if seed is None:
            seed = int(np.random.SeedSequence([self.config.train.seed, self._sample_calls])
                       .generate_state(1)[0])
            self._sample_calls += 1
        start = time.perf_counter()
        out = sample_rows(self, n, party=party, conditions=conditions, seed=seed, strict=strict)
        logger.debug("sampled %d rows in %.2fs", n, time.perf_counter() - start)
        return out

    def generator_for(self, party: str) -> torch.nn.Module:
        """The generator that makes this party's rows."""
        return self._generators[self._code_generator[self.parties.index(party)]]

    # ---- persistence --------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write config, encoder, party summary counts and generator weights (no rows)."""
        from dagan_core.checkpoint import save_synthesizer

        if self.encoder is None:
            raise NotFittedError("nothing to save: the synthesizer is not fitted")
        save_synthesizer(self, path)
