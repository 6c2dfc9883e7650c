"""Run configuration of the synthesis asset."""

from __future__ import annotations

from typing import Literal

import dagster as dg
from pydantic import Field


class SynthesisConfig(dg.Config):
    """How many synthetic rows to draw and with which seed."""

    rows: int = Field(
        default=0,
        ge=0,
        description="Synthetic rows in total; 0 = as many as the real training rows. Rows are "
        "split over parties in proportion to their real sizes.",
    )
    seed: int = Field(default=0, description="Seed of the draw (same seed, same rows).")
    device: Literal["cpu", "cuda", "auto"] = Field(
        default="cpu", description="Device the checkpoint is loaded on."
    )
    threads: int | None = Field(
        default=None, ge=1,
        description="CPU threads of sampling (torch); empty = DAGAN_THREADS, else "
        "min(cores - 1, 4).",
    )
    plot_columns: list[str] = Field(
        default=[],
        description="Columns whose real vs synthetic distributions are plotted on the "
        "materialization; empty = every column but the label (its mix is the class-mix plot).",
    )
