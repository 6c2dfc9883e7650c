"""Synthesis: synthetic rows of each model version in the warehouse."""

import dagster as dg

from pipelines.defs.synthesis.assets import synthetic_table

defs = dg.Definitions(assets=[synthetic_table])
