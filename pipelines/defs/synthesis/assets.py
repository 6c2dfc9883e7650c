"""Synthetic rows of one model version, staged for the warehouse table synthetic.rows (the
selected dataset's ``synthetic_<namespace>.rows`` for a dataset with a namespace); the evaluation
publishes them together with the version's metrics and SQL models."""


import dagster as dg

from pipelines import settings
from pipelines.class_mix import (
    class_mix_comparison,
    participation,
    real_class_mix,
    synthetic_class_mix,
)
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
from pipelines.defs.synthesis.sampling import allocate_rows, sample_parties, shortfall_table
from pipelines.defs.training.assets import TRAINING_SUMMARY, dagan_model
from pipelines.metadata import json_value, md_table
from pipelines.partitions import model_versions
from pipelines.plots import class_mix, column_histograms
from pipelines.resources.model_store import ModelStore
from pipelines.resources.warehouse import Warehouse
from pipelines.resources.warehouse_sql import frame_schema
from pipelines.threads import compute_threads, resolve_threads

__all__ = ["COMMENT", "KEY", "SCHEMA", "TABLE", "column_comments", "synthetic_table"]


@dg.asset(
    partitions_def=model_versions,
    deps=[dagan_model],
    group_name="synthesis",
    kinds={"duckdb"},
    owners=["team:ml"],
    tags={"privacy": "shared"},
    metadata={
        "dagster/table_name": f"{settings.warehouse_schema(SCHEMA)}.{TABLE}",
        "dagster/column_schema": rows_schema(),
    },
)
def synthetic_table(
    context: dg.AssetExecutionContext,
    config: SynthesisConfig,
    model_store: ModelStore,
    warehouse: Warehouse,
) -> dg.MaterializeResult:
    """Rows sampled from the version's checkpoint, staged to replace exactly that version's rows
    of synthetic.rows (the table analysts query): ``utility_metrics`` publishes them together with
    the version's metrics and the SQL models, so readers see all of the version or none of it.
    Rows whose columns are not those of synthetic.rows are refused. Each party gets rows in
    proportion to its real size; the plots compare them with the real data through the party
    summaries only."""
    import dagan_core  # heavy (torch): imported at run time only

    version = context.partition_key
    record = model_store.read_json(version, TRAINING_SUMMARY)
    sizes = {p: info["rows"] for p, info in record["parties"].items()}
    allocation = allocate_rows(sizes, config.rows or sum(sizes.values()))
    threads = resolve_threads(config.threads)
    with compute_threads(threads):
        synth = dagan_core.load_synthesizer(model_store.path(version), device=config.device)
        rows = sample_parties(synth, allocation, config.seed)
    shortfall, unmet = shortfall_table(rows.attrs["shortfall"]), rows.attrs["unmet_rows"]
    if len(shortfall):
        context.log.warning(f"{unmet} of {len(rows)} rows carry another label "
                            "than asked (the model does not make these classes for these "
                            f"parties yet):\n{shortfall.to_string(index=False)}")
    rows = rows.assign(**{KEY: version})
    schema = settings.warehouse_schema(SCHEMA)
    written = warehouse.stage_partition(TABLE, rows, KEY, version, schema=schema)
    context.log.info(
        f"staged {written} rows of model version {version} for {schema}.{TABLE}; utility_metrics "
        "publishes them together with the version's metrics and SQL models"
    )
    mix = class_mix_comparison(real_class_mix(record), synthetic_class_mix(rows, record["label"]))
    parties = participation(record)
    for party, reason in record.get("left_out", {}).items():
        context.log.warning(f"the rows of model version {version} carry nothing of party "
                            f"{party}: it was left out of training ({reason})")
    kinds = {c.name: c.kind for c in synth.encoder.schema.columns}
    summaries = {p: s.to_dict() for p, s in synth.summaries.items()}
    shown = plotted_columns(kinds, record["label"], config.plot_columns)
    return dg.MaterializeResult(
        value={"model_version": version, "rows": written},
        metadata={
            "dagster/row_count": written,
            "dagster/column_schema": frame_schema(rows, column_comments()),
            "threads": threads,
            "rows_per_party": json_value(rows["party"].value_counts().sort_index().to_dict()),
            "class_mix": md_table(mix),
            "parties": md_table(parties),
            "left_out_parties": json_value(record.get("left_out", {})),
            "label_shortfall_rows": int(unmet),
            "label_shortfall": md_table(shortfall),
            "class_mix_plot": class_mix(mix),
            "column_histograms": column_histograms(
                column_comparisons(summaries, kinds, rows, shown)
            ),
        },
    )
