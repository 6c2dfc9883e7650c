"""The analysts' SQL models (dbt_like_sql/), one asset per file, built by the factory."""

from __future__ import annotations

import dagster as dg

from pipelines import settings
from pipelines.defs.evaluation.assets import utility_metrics
from pipelines.defs.synthesis.assets import synthetic_table
from pipelines.factories.sql_models import build_sql_model_assets

SQL_ROOT = settings.SQL_MODELS_DIR

#: Warehouse tables written by pipeline assets, for dependency inference.
SOURCES: dict[str, dg.AssetKey] = {
    "synthetic.rows": synthetic_table.key,
    "metrics.*": utility_metrics.key,
}

sql_model_assets = build_sql_model_assets(SQL_ROOT, SOURCES, group_name="analytics")
