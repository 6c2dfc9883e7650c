"""Synthesis: synthetic rows of each model version in the warehouse."""

import dagster as dg

from pipelines.defs.synthesis.assets import synthetic_table
from pipelines.defs.synthesis.checks import synthetic_privacy

defs = dg.Definitions(assets=[synthetic_table], asset_checks=[synthetic_privacy])
