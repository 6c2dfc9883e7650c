"""Utility, similarity and privacy of each model version's synthetic rows."""


from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from pipelines import settings
from pipelines.defs.evaluation.config import EvaluationConfig
from pipelines.defs.evaluation.tables import (
    COLUMNS,
    COMMENTS,
    KEY,
    column_comments,
    headline,
    metrics_tables,
    pooled_real_rows,
    read_test_set,
    score,
    table_schema,
)
from pipelines.defs.synthesis.assets import SCHEMA, TABLE, synthetic_table
from pipelines.defs.training.assets import TRAINING_SUMMARY
from pipelines.metadata import json_value, md_table
from pipelines.partitions import model_versions
from pipelines.plots import utility_bars
from pipelines.resources.model_store import ModelStore
from pipelines.resources.party_store import PartyStore
from pipelines.resources.warehouse import Warehouse


@dg.asset(
    partitions_def=model_versions,
    deps=[
        synthetic_table,
        dg.AssetDep("validated_party_table", partition_mapping=dg.AllPartitionMapping()),
    ],
    group_name="evaluation",
    kinds={"duckdb", "scikitlearn"},
    owners=["team:ml"],
    tags={"privacy": "shared"},
    metadata={
        "dagster/table_name": "metrics.utility",
        "dagster/column_schema": table_schema("utility"),
        **{f"schema: metrics.{name}": table_schema(name) for name in COLUMNS if name != "utility"},
    },
)
def utility_metrics(
    context: dg.AssetExecutionContext,
    config: EvaluationConfig,
    party_store: PartyStore,
    model_store: ModelStore,
    warehouse: Warehouse,
) -> dg.MaterializeResult:
    """TSTR vs TRTR, similarity, DCR privacy and class mix → metrics.* tables, per version.

    The TRTR reference, similarity and DCR need real rows: this step pools the parties'
    validated rows. It is an evaluation-only read by the pipeline operator; only aggregate
    metrics and class counts leave it, never rows, and the model never sees the pooled table.
    """
    version = context.partition_key
    record = model_store.read_json(version, TRAINING_SUMMARY)
    synthetic = warehouse.read_partition(TABLE, KEY, version, schema=SCHEMA).drop(columns=[KEY])
    real = pooled_real_rows(party_store, list(record["parties"]))
    test = read_test_set(Path(config.test_set_path or settings.test_set_path()), record["columns"])
    report, fidelity = score(real, synthetic, test, record, config)
    tables = metrics_tables(version, record, report, fidelity, synthetic, datetime.now(UTC))

    def write(w):
        for name, frame in tables.items():
            w.replace_partition(name, frame, KEY, version, schema="metrics", comment=COMMENTS[name])
            undocumented = w.comment_columns(name, column_comments(name), schema="metrics")
            if undocumented:
                context.log.warning(f"metrics.{name}: undocumented columns {undocumented}")

    warehouse.publish(write)
    context.log.info(f"published metrics of {version} to metrics.{', metrics.'.join(tables)}")
    return dg.MaterializeResult(
        value=report.summary(),
        metadata={
            "dagster/column_schema": warehouse.table_schema("utility", "metrics"),
            "utility": md_table(headline(report)),
            "utility_plot": utility_bars(headline(report)),
            "similarity": md_table(tables["similarity"][["metric", "party", "value"]]),
            "privacy": md_table(tables["privacy"][["metric", "value"]]),
            "summary": json_value(report.summary()),
        },
    )
