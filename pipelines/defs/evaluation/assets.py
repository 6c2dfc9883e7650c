"""Utility, similarity and privacy of each model version's synthetic rows, and the
``synthetic_privacy`` check read off the same privacy report."""

import warnings
from collections.abc import Callable
from datetime import UTC, datetime

import dagster as dg
import pandas as pd

from pipelines import settings
from pipelines.defs.evaluation.config import EvaluationConfig
from pipelines.defs.evaluation.metrics_frames import (
    evaluation_settings,
    headline,
    metrics_tables,
)
from pipelines.defs.evaluation.metrics_schema import (
    COLUMNS,
    COMMENTS,
    column_comments,
    table_schema,
)
from pipelines.defs.evaluation.privacy import privacy_check_result, privacy_check_spec
from pipelines.defs.evaluation.scoring import (
    held_out_halves,
    pooled_real_rows,
    read_test_set,
    score,
)
from pipelines.defs.synthesis.assets import synthetic_table
from pipelines.defs.synthesis.rows_schema import COMMENT as ROWS_COMMENT
from pipelines.defs.synthesis.rows_schema import KEY, SCHEMA, TABLE
from pipelines.defs.synthesis.rows_schema import column_comments as rows_column_comments
from pipelines.defs.training.assets import TRAINING_SUMMARY
from pipelines.factories.sql_rebuild import build_all_models
from pipelines.metadata import json_value, md_table
from pipelines.namespaces import claim_namespace
from pipelines.partitions import model_versions
from pipelines.plots import utility_bars
from pipelines.resources.model_store import ModelStore
from pipelines.resources.party_store import PartyStore
from pipelines.resources.warehouse import Warehouse, WarehouseWriter
from pipelines.threads import resolve_threads


def publish_version(w: WarehouseWriter, version: str, rows: pd.DataFrame,
                    tables: dict[str, pd.DataFrame], warn: Callable[[str], object]) -> list[str]:
    """Inside one write cycle: a model version's synthetic rows, its metrics and every SQL model,
    so readers see all of the version or none of it; the selected dataset claims its namespace
    first (another dataset's namespace is refused). Returns the SQL models built."""
    claim_namespace(w.con)
    schema, metrics = settings.warehouse_schema(SCHEMA), settings.warehouse_schema("metrics")
    w.replace_partition(TABLE, rows, KEY, version, schema=schema, comment=ROWS_COMMENT)
    undocumented = w.comment_columns(TABLE, rows_column_comments(), schema=schema)
    if undocumented:
        warn(f"{schema}.{TABLE}: columns without a description: {undocumented}")
    for name, frame in tables.items():
        w.replace_partition(name, frame, KEY, version, schema=metrics, comment=COMMENTS[name])
        undocumented = w.comment_columns(name, column_comments(name), schema=metrics)
        if undocumented:
            warn(f"{metrics}.{name}: undocumented columns {undocumented}")
    marts = {name: settings.warehouse_schema(name) for name in ("synthetic", "metrics", "marts")}
    return list(build_all_models(w, settings.SQL_MODELS_DIR, warn, marts))


METRICS = settings.warehouse_schema("metrics")

# Checks of a partitioned asset are partitioned like it (each model version has its own
# verdict); Dagster marks partitioned checks as preview.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.PreviewWarning)

    @dg.asset(
        partitions_def=model_versions,
        deps=[
            synthetic_table,
            dg.AssetDep("validated_party_table", partition_mapping=dg.AllPartitionMapping()),
        ],
        check_specs=[privacy_check_spec("utility_metrics", model_versions)],
        group_name="evaluation",
        kinds={"duckdb", "scikitlearn"},
        owners=["team:ml"],
        tags={"privacy": "shared"},
        metadata={
            "dagster/table_name": f"{METRICS}.utility",
            "dagster/column_schema": table_schema("utility"),
            **{f"schema: {METRICS}.{n}": table_schema(n) for n in COLUMNS if n != "utility"},
        },
    )
    def utility_metrics(
        context: dg.AssetExecutionContext,
        config: EvaluationConfig,
        party_store: PartyStore,
        model_store: ModelStore,
        warehouse: Warehouse,
    ):  # no return annotation: with check specs, an annotated MaterializeResult keeps no value
        """TSTR vs TRTR, similarity, DCR privacy and class mix → metrics.* tables, per version;
        the privacy report also gives the non-blocking ``synthetic_privacy`` check. Publishes the
        version: its staged synthetic rows, these metrics and the rebuilt SQL models in one write
        cycle (all or nothing: a failed evaluation publishes none of them).

        The TRTR reference, similarity and DCR need real rows: this step pools the parties'
        validated rows. It is an evaluation-only read by the pipeline operator; only aggregate
        metrics and class counts leave it, never rows, and the model never sees the pooled table.
        With remote parties (a training record marked ``remote``) no party row is here: the
        real reference is a seeded half of the held-out table and the test set the other half,
        scored without the per-party split.
        """
        version = context.partition_key
        record = model_store.read_json(version, TRAINING_SUMMARY)
        schema = settings.warehouse_schema(SCHEMA)
        staged = warehouse.staged_partition(TABLE, version, schema=schema)
        rows = staged.frame if staged is not None else warehouse.read_partition(
            TABLE, KEY, version, schema=schema)
        synthetic = rows.drop(columns=[KEY])
        test_set = config.test_set_file()
        test = read_test_set(test_set, record["columns"])
        if record.get("remote"):
            real, test = held_out_halves(test, config.seed)
            config = config.model_copy(update={"per_party": False})
            context.log.info("remote parties: real reference = half of the held-out table")
        else:
            real = pooled_real_rows(party_store, list(record["parties"]))
        threads = resolve_threads(config.threads)
        report, fidelity = score(real, synthetic, test, record, config)
        setting = evaluation_settings(
            record, config, {"real": len(real), "synthetic": len(synthetic), "test": len(test)},
            test_set.name)
        tables = metrics_tables(version, record, report, fidelity, synthetic, datetime.now(UTC),
                                setting)
        marts = warehouse.publish(
            lambda w: publish_version(w, version, rows, tables, context.log.warning))
        if staged is not None:
            warehouse.unstage(staged)
        context.log.info(
            f"published model version {version}: {len(rows)} rows of {schema}.{TABLE}, "
            f"{', '.join(f'{METRICS}.{name}' for name in tables)} and the SQL models "
            f"{', '.join(marts)}, in one write cycle"
        )
        training_rows = min(len(real), config.max_rows) if config.max_rows else len(real)
        check = privacy_check_result(version, report.privacy, test_set, training_rows)
        (context.log.info if check.passed else context.log.warning)(check.description or "")
        return dg.MaterializeResult(
            value=report.summary(),
            metadata={
                "dagster/column_schema": warehouse.table_schema("utility", METRICS),
                "utility": md_table(headline(report)),
                "utility_plot": utility_bars(headline(report)),
                "similarity": md_table(tables["similarity"][["metric", "party", "value"]]),
                "privacy": md_table(tables["privacy"][["metric", "value"]]),
                "summary": json_value(report.summary()),
                "evaluation_setting": str(setting["setting"].iloc[0]),
                "threads": threads,
            },
            check_results=[check],
        )
