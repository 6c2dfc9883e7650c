"""Analytics: SQL models over the warehouse, one asset per dbt_like_sql/ file."""

import dagster as dg

from pipelines.defs.analytics.assets import sql_model_assets

defs = dg.Definitions(assets=sql_model_assets)
