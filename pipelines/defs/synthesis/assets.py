"""Synthetic rows of one model version, published to the warehouse table synthetic.rows."""


import dagster as dg

from pipelines.defs.synthesis.config import SynthesisConfig
from pipelines.defs.synthesis.sampling import (
    allocate_rows,
    class_mix_comparison,
    real_class_mix,
    sample_parties,
    synthetic_class_mix,
)
from pipelines.defs.training.assets import TRAINING_SUMMARY, dagan_model
from pipelines.metadata import column_schema, json_value, md_table
from pipelines.partitions import model_versions
from pipelines.plots import class_mix
from pipelines.resources.model_store import ModelStore
from pipelines.resources.warehouse import Warehouse

SCHEMA, TABLE, KEY = "synthetic", "rows", "model_version"
COMMENT = (
    "Synthetic rows: the shared schema's columns, the party whose distribution made the row, "
    "and the model_version (model_versions partition) that generated it."
)


@dg.asset(
    partitions_def=model_versions,
    deps=[dagan_model],
    group_name="synthesis",
    kinds={"duckdb"},
    metadata={"dagster/table_name": f"{SCHEMA}.{TABLE}"},
)
def synthetic_table(
    context: dg.AssetExecutionContext,
    config: SynthesisConfig,
    model_store: ModelStore,
    warehouse: Warehouse,
) -> dg.MaterializeResult:
    """Rows sampled from the version's checkpoint, replacing exactly that version's rows."""
    import dagan_core  # heavy (torch): imported at run time only

    version = context.partition_key
    record = model_store.read_json(version, TRAINING_SUMMARY)
    sizes = {p: info["rows"] for p, info in record["parties"].items()}
    allocation = allocate_rows(sizes, config.rows or sum(sizes.values()))
    synth = dagan_core.load_synthesizer(model_store.path(version), device=config.device)
    rows = sample_parties(synth, allocation, config.seed).assign(**{KEY: version})
    written = warehouse.replace_partition(TABLE, rows, KEY, version, schema=SCHEMA, comment=COMMENT)
    context.log.info(f"published {written} rows of model version {version} to {SCHEMA}.{TABLE}")
    mix = class_mix_comparison(real_class_mix(record), synthetic_class_mix(rows, record["label"]))
    return dg.MaterializeResult(
        value={"model_version": version, "rows": written},
        metadata={
            "dagster/row_count": written,
            "dagster/column_schema": column_schema(warehouse.columns(TABLE, SCHEMA)),
            "rows_per_party": json_value(rows["party"].value_counts().sort_index().to_dict()),
            "class_mix": md_table(mix),
            "class_mix_plot": class_mix(mix),
        },
    )
