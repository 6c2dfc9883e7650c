"""Evaluation: utility, similarity and privacy metrics of each model version."""

import dagster as dg

from pipelines.defs.evaluation.assets import utility_metrics

defs = dg.Definitions(assets=[utility_metrics])
