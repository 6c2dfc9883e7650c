"""Strategy selection: ``make_synthesizer(strategy, **hyperparameters)``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dagan_core.config import SynthesizerConfig
from dagan_core.synthesizers.base import Synthesizer
from dagan_core.synthesizers.checkpoint import load_model

__all__ = ["load_synthesizer", "make_synthesizer"]


def make_synthesizer(strategy: str = "dagan", **hyperparameters: Any) -> Synthesizer:
    """Create an unfitted synthesizer.

    Strategies (:mod:`dagan_core.strategies`): "dagan" (party critics, gradient casting, local
    + global attention), "mdgan" (the same with both attentions off), "swift" (one party per
    generator step), "fedsyn" (FedAvg of per-party GANs), "local" (one GAN per party, samples
    unioned), "centralized" (one critic on pooled rows: a privacy-violating upper reference).

    Raises:
        ConfigError: unknown strategy or hyperparameter (the message lists the valid names).
    """
    return Synthesizer(SynthesizerConfig.from_flat(strategy, **hyperparameters))


def load_synthesizer(path: str | Path, device: str = "cpu") -> Synthesizer:
    """Load a saved synthesizer (see :mod:`dagan_core.synthesizers.checkpoint`)."""
    return Synthesizer.from_model(load_model(path, device=device))
