"""Utility, similarity and privacy of each model version's synthetic rows, and the
``synthetic_privacy`` check read off the same privacy report."""

import warnings
from datetime import UTC, datetime

import dagster as dg

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
from pipelines.defs.evaluation.scoring import pooled_real_rows, read_test_set, score
from pipelines.defs.synthesis.assets import synthetic_table
from pipelines.defs.synthesis.rows_schema import KEY, SCHEMA, TABLE
from pipelines.defs.training.assets import TRAINING_SUMMARY
from pipelines.metadata import json_value, md_table
from pipelines.partitions import model_versions
from pipelines.plots import utility_bars
from pipelines.resources.model_store import ModelStore
from pipelines.resources.party_store import PartyStore
from pipelines.resources.warehouse import Warehouse
from pipelines.threads import resolve_threads

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
            "dagster/table_name": "metrics.utility",
            "dagster/column_schema": table_schema("utility"),
            **{f"schema: metrics.{n}": table_schema(n) for n in COLUMNS if n != "utility"},
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
        the privacy report also gives the non-blocking ``synthetic_privacy`` check.

        The TRTR reference, similarity and DCR need real rows: this step pools the parties'
        validated rows. It is an evaluation-only read by the pipeline operator; only aggregate
        metrics and class counts leave it, never rows, and the model never sees the pooled table.
        """
        version = context.partition_key
        record = model_store.read_json(version, TRAINING_SUMMARY)
        synthetic = warehouse.read_partition(TABLE, KEY, version, schema=SCHEMA).drop(columns=[KEY])
        real = pooled_real_rows(party_store, list(record["parties"]))
        test_set = config.test_set_file()
        test = read_test_set(test_set, record["columns"])
        threads = resolve_threads(config.threads)
        report, fidelity = score(real, synthetic, test, record, config)
        settings = evaluation_settings(
            record, config, {"real": len(real), "synthetic": len(synthetic), "test": len(test)},
            test_set.name)
        tables = metrics_tables(version, record, report, fidelity, synthetic, datetime.now(UTC),
                                settings)

        def write(w):
            for name, frame in tables.items():
                w.replace_partition(name, frame, KEY, version, schema="metrics",
                                    comment=COMMENTS[name])
                undocumented = w.comment_columns(name, column_comments(name), schema="metrics")
                if undocumented:
                    context.log.warning(f"metrics.{name}: undocumented columns {undocumented}")

        warehouse.publish(write)
        context.log.info(f"published metrics of {version} to metrics.{', metrics.'.join(tables)}")
        training_rows = min(len(real), config.max_rows) if config.max_rows else len(real)
        check = privacy_check_result(version, report.privacy, test_set, training_rows)
        (context.log.info if check.passed else context.log.warning)(check.description or "")
        return dg.MaterializeResult(
            value=report.summary(),
            metadata={
                "dagster/column_schema": warehouse.table_schema("utility", "metrics"),
                "utility": md_table(headline(report)),
                "utility_plot": utility_bars(headline(report)),
                "similarity": md_table(tables["similarity"][["metric", "party", "value"]]),
                "privacy": md_table(tables["privacy"][["metric", "value"]]),
                "summary": json_value(report.summary()),
                "evaluation_setting": str(settings["setting"].iloc[0]),
                "threads": threads,
            },
            check_results=[check],
        )
