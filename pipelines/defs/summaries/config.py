"""Run configuration of the party summaries."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from dagan_core.config import ModelConfig, TrainConfig


class SummaryConfig(dg.Config):
    """How a party summarises its continuous columns (the training must use the same values)."""

    max_modes: int = Field(
        default=ModelConfig().max_modes,
        description="Most Gaussian mixture modes per continuous column.",
    )
    seed: int = Field(default=TrainConfig().seed, description="Seed of the mixture fits.")
