"""The synthesizer: fit on several parties' tables, sample synthetic rows.

``fit`` plays the deployment harness: it hands each table to the party that owns it (the
party validates, summarises and encodes it), merges the summaries into the global encoder, and
runs the strategy's trainer (:mod:`dagan_core.synthesizers.fit_run`). A fit produces a
:class:`FittedModel`: the generator(s), the encoder and the parties' summary counts — no party
row.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from dagan_core.config import SynthesizerConfig
from dagan_core.data.encoder import TableEncoder
from dagan_core.data.summary import PartySummary
from dagan_core.errors import NotFittedError
from dagan_core.synthesizers.checkpoint import save_model
from dagan_core.synthesizers.device import resolve_device
from dagan_core.synthesizers.fit_run import EpochStats, FitRun, begin_fit
from dagan_core.synthesizers.fitted_model import FittedModel
from dagan_core.synthesizers.sampling import sample_rows

__all__ = ["EpochStats", "Synthesizer", "resolve_device"]

logger = logging.getLogger(__name__)


class Synthesizer:
    """Common fit/sample/save API of every strategy (see ``make_synthesizer``).

    Attributes:
        config: the hyperparameters.
        device: where training and sampling run.
        model: the fitted model (None before ``fit``).
    """

    def __init__(self, config: SynthesizerConfig):
        """Create an unfitted synthesizer."""
        self.config = config
        self.device = resolve_device(config.train.device)
        self.model: FittedModel | None = None
        self._sample_calls = 0

    @classmethod
    def from_model(cls, model: FittedModel) -> Synthesizer:
        """A synthesizer that samples from an already fitted model."""
        synth = cls(model.config)
        synth.model = model
        return synth

    # ---- what the fit produced ----------------------------------------------------------------
    @property
    def encoder(self) -> TableEncoder | None:
        """The global encoder (None before ``fit``)."""
        return None if self.model is None else self.model.encoder

    @property
    def summaries(self) -> dict[str, PartySummary]:
        """Party name -> its summary ({} before ``fit``)."""
        return {} if self.model is None else self.model.summaries

    @property
    def history(self) -> list[dict[str, Any]]:
        """Per-epoch statistics of the fit."""
        return [] if self.model is None else self.model.history

    @property
    def privacy(self) -> dict[str, Any] | None:
        """Privacy accounting of the fit (None when no privacy mechanism was on)."""
        return None if self.model is None else self.model.privacy

    @property
    def parties(self) -> list[str]:
        """Names of the parties the model was fitted on."""
        return [] if self.model is None else self.model.parties

    # ---- fitting ------------------------------------------------------------------------------
    def fit(
        self, parties: Mapping[str, pd.DataFrame], label: str,
        discrete_columns: Sequence[str] | None = None, *,
        encoder: TableEncoder | None = None,
        summaries: Mapping[str, PartySummary] | None = None,
        on_epoch_end: Callable[[EpochStats], None] | None = None,
        checkpoint_dir: str | Path | None = None,
    ) -> Synthesizer:
        """Train on the parties' tables.

        Args:
            parties: party name -> table; all tables share one schema. Or a
                :class:`~dagan_core.federation.remote.federation.RemoteFederation`: parties
                on their own hosts, reached over gRPC with mutual TLS, each serving its own rows
                (``dagan party serve``); ``encoder`` may be given, ``summaries`` not (the
                parties send theirs).
            label: the label column (always discrete).
            discrete_columns: discrete columns; inferred from dtypes when None.
            encoder: the global encoder, when prepared beforehand (:mod:`dagan_core.prepare`);
                computed from the summaries when None.
            summaries: party name -> summary, when prepared beforehand; computed when None.
                Prepared ones give the same model as computed ones.
            on_epoch_end: called with an :class:`EpochStats` after every epoch; inside it the
                synthesizer can already ``sample`` from the current generator(s) (to follow
                utility over epochs), which leaves the training trajectory unchanged.
            checkpoint_dir: where to keep an epoch checkpoint; if one is there, training resumes
                from it (same seed -> same result as an uninterrupted run).

        Raises:
            InvalidDataError: a table breaks the schema; the message names party, column, value;
                or prepared summaries do not match the parties.
        """
        run = self.begin_fit(parties, label, discrete_columns, encoder=encoder,
                             summaries=summaries, on_epoch_end=on_epoch_end,
                             checkpoint_dir=checkpoint_dir)
        while run.epochs_left:
            run.run_epoch()
        run.finish()
        return self

    def begin_fit(
        self, parties: Mapping[str, pd.DataFrame], label: str,
        discrete_columns: Sequence[str] | None = None, *,
        encoder: TableEncoder | None = None,
        summaries: Mapping[str, PartySummary] | None = None,
        on_epoch_end: Callable[[EpochStats], None] | None = None,
        checkpoint_dir: str | Path | None = None,
    ) -> FitRun:
        """Prepare a fit without training: ``run_epoch`` while ``epochs_left``, then ``finish``.

        Same arguments as :meth:`fit`, which is exactly these steps.
        """
        return begin_fit(self.config, self.device, parties, label, discrete_columns,
                         encoder=encoder, summaries=summaries, on_epoch_end=on_epoch_end,
                         checkpoint_dir=checkpoint_dir, publish=self._publish)

    def _publish(self, model: FittedModel) -> None:
        self.model = model

    # ---- sampling -----------------------------------------------------------------------------
    def _fitted(self, action: str) -> FittedModel:
        if self.model is None:
            raise NotFittedError(action)
        return self.model

    def sample(
        self, n: int, *, party: str | None = None,
        conditions: Mapping[str, object] | None = None, seed: int | None = None,
        strict: bool = False,
    ) -> pd.DataFrame:
        """Generate ``n`` rows with the training columns plus ``party``.

        Args:
            n: number of rows.
            party: only this party's distribution; None draws parties in proportion to their
                sizes (or, with conditions, to how many rows of the asked value they hold).
            conditions: discrete column -> value that every row must have.
            seed: same seed -> same rows; None derives a fresh seed from the training seed.
            strict: False (default) keeps what the model makes when it does not make the asked
                labels or values within the allowed regeneration rounds, and reports it:
                ``attrs["unmet_rows"]`` counts the misses (release rows that carry another
                label than asked, or rows missing from a conditional call) and
                ``attrs["shortfall"]`` lists them per (party, asked value) cell with the rows
                asked, made and missing. True raises ``ConditionError`` instead. The cells a
                fitted generator cannot make yet are known from the end of ``fit``
                (``synth.model.cells``).

        Raises:
            ConditionError: unknown column or value, a continuous column, a (party, value)
                combination the party never had (the message lists the parties that have it),
                or, when strict, a model that does not obey its conditions.
        """
        model = self._fitted("fit the synthesizer (or load a checkpoint) before sampling")
        if seed is None:
            seed = int(np.random.SeedSequence([self.config.train.seed, self._sample_calls])
                       .generate_state(1)[0])
            self._sample_calls += 1
        start = time.perf_counter()
        out = sample_rows(model, n, party=party, conditions=conditions, seed=seed, strict=strict)
        if out.attrs["unmet_rows"]:
            logger.warning("%d of %d rows asked could not be made as asked: %s",
                           out.attrs["unmet_rows"], n, out.attrs["shortfall"])
        logger.debug("sampled %d rows in %.2fs", n, time.perf_counter() - start)
        return out

    def generator_for(self, party: str) -> torch.nn.Module:
        """The generator that makes this party's rows."""
        return self._fitted("the synthesizer is not fitted").generator_for(party)

    # ---- persistence --------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write config, encoder, party summary counts and generator weights (no rows)."""
        save_model(self._fitted("nothing to save: the synthesizer is not fitted"), path)
