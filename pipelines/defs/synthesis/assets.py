"""Synthetic rows of one model version, published to the warehouse table synthetic.rows."""


import dagster as dg

from pipelines.class_mix import class_mix_comparison, real_class_mix, synthetic_class_mix
from pipelines.defs.synthesis.config import SynthesisConfig
from pipelines.defs.synthesis.distributions import column_comparisons, plotted_columns
from pipelines.defs.synthesis.rows_schema import (
    COMMENT,
    KEY,
    SCHEMA,
    TABLE,
    column_comments,
    rows_schema,
)
from pipelines.defs.synthesis.sampling import allocate_rows, sample_parties
from pipelines.defs.training.assets import TRAINING_SUMMARY, dagan_model
from pipelines.metadata import json_value, md_table
from pipelines.partitions import model_versions
from pipelines.plots import class_mix, column_histograms
from pipelines.resources.model_store import ModelStore
from pipelines.resources.warehouse import Warehouse
from pipelines.threads import compute_threads, resolve_threads

__all__ = ["COMMENT", "KEY", "SCHEMA", "TABLE", "synthetic_table"]


@dg.asset(
    partitions_def=model_versions,
    deps=[dagan_model],
    group_name="synthesis",
    kinds={"duckdb"},
    owners=["team:ml"],
    tags={"privacy": "shared"},
    metadata={
        "dagster/table_name": f"{SCHEMA}.{TABLE}",
        "dagster/column_schema": rows_schema(),
    },
)
def synthetic_table(
    context: dg.AssetExecutionContext,
    config: SynthesisConfig,
    model_store: ModelStore,
    warehouse: Warehouse,
) -> dg.MaterializeResult:
    """Rows sampled from the version's checkpoint, replacing exactly that version's rows of
    synthetic.rows (the table analysts query). Each party gets rows in proportion to its real
    size; the plots compare them with the real data through the party summaries only."""
    import dagan_core  # heavy (torch): imported at run time only

    version = context.partition_key
    record = model_store.read_json(version, TRAINING_SUMMARY)
    sizes = {p: info["rows"] for p, info in record["parties"].items()}
    allocation = allocate_rows(sizes, config.rows or sum(sizes.values()))
    threads = resolve_threads(config.threads)
    with compute_threads(threads):
        synth = dagan_core.load_synthesizer(model_store.path(version), device=config.device)
        rows = sample_parties(synth, allocation, config.seed).assign(**{KEY: version})
    comments = column_comments()

    def write(w):
        written = w.replace_partition(TABLE, rows, KEY, version, schema=SCHEMA, comment=COMMENT)
        undocumented = w.comment_columns(TABLE, comments, schema=SCHEMA)
        if undocumented:
            context.log.warning(f"{SCHEMA}.{TABLE}: columns without a description: {undocumented}")
        return written

    written = warehouse.publish(write)
    context.log.info(f"published {written} rows of model version {version} to {SCHEMA}.{TABLE}")
    mix = class_mix_comparison(real_class_mix(record), synthetic_class_mix(rows, record["label"]))
    kinds = {c.name: c.kind for c in synth.encoder.schema.columns}
    summaries = {p: s.to_dict() for p, s in synth.summaries.items()}
    shown = plotted_columns(kinds, record["label"], config.plot_columns)
    return dg.MaterializeResult(
        value={"model_version": version, "rows": written},
        metadata={
            "dagster/row_count": written,
            "dagster/column_schema": warehouse.table_schema(TABLE, SCHEMA),
            "threads": threads,
            "rows_per_party": json_value(rows["party"].value_counts().sort_index().to_dict()),
            "class_mix": md_table(mix),
            "class_mix_plot": class_mix(mix),
            "column_histograms": column_histograms(
                column_comparisons(summaries, kinds, rows, shown)
            ),
        },
    )
