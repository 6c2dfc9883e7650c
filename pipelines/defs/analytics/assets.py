"""The analysts' SQL models (dbt_like_sql/), one asset per file, built by the factory, in the
selected dataset's schemas (``marts_<namespace>`` reading ``synthetic_<namespace>.rows`` and
``metrics_<namespace>.*`` for a dataset with a namespace)."""

from __future__ import annotations

import dagster as dg

from pipelines import settings
from pipelines.defs.evaluation.assets import utility_metrics
from pipelines.defs.synthesis.assets import synthetic_table
from pipelines.factories.sql_models import build_sql_model_assets

SQL_ROOT = settings.SQL_MODELS_DIR

#: Warehouse tables written by pipeline assets, for dependency inference.
SCHEMAS = {name: settings.warehouse_schema(name) for name in ("synthetic", "metrics", "marts")}
SOURCES: dict[str, dg.AssetKey] = {
    f"{SCHEMAS['synthetic']}.rows": synthetic_table.key,
    f"{SCHEMAS['metrics']}.*": utility_metrics.key,
}

sql_model_assets = build_sql_model_assets(
    SQL_ROOT, SOURCES, group_name="analytics", schemas=SCHEMAS
)
