"""Each party's summary: what it shares to build the encoder, and its imbalance profile."""


from typing import Any

import dagster as dg

from dagan_core.profiling import profile_party_chunks
from pipelines.contracts import model_columns
from pipelines.defs.summaries.config import SummaryConfig
from pipelines.defs.summaries.metadata import PROFILE_SCHEMA, party_summary_metadata
from pipelines.defs.summaries.participation import left_out_summary, table_exclusion, what_to_do
from pipelines.defs.summaries.stored_columns import (
    StoredColumns,
    declared_schema,
    summarize_stored,
)
from pipelines.partitions import party_partitions
from pipelines.resources import PartyStore
from pipelines.resources.party_store import VALIDATED


@dg.asset(
    partitions_def=party_partitions,
    group_name="summaries",
    deps=["validated_party_table"],
    kinds={"pandas"},
    owners=["team:data-engineering"],
    tags={"privacy": "counts-only"},
    metadata={"dagster/column_schema": PROFILE_SCHEMA},
    description=(
        "What one party shares before any training (docs/federation.md, section 2): its row "
        "count, the count of every category of every discrete column, a Gaussian mixture and the "
        "range of every continuous column; plus its label imbalance (counts and shares). Never "
        "a row. Computed from the validated table one column at a time. A party that cannot "
        "take part in training (fewer than 2 valid rows, or a column empty in every row) gets "
        "no summary: metadata left_out_of_training gives the reason, and dagan_model's "
        "empty_party policy decides whether the others train without it."
    ),
)
def party_summary(
    context: dg.AssetExecutionContext, config: SummaryConfig, party_store: PartyStore
) -> dg.Output[dict[str, Any]]:
    """The party's declaration, summary and imbalance profile as one JSON-ready dictionary."""
    party = context.partition_key
    columns = model_columns()
    table = party_store.open(party, VALIDATED)
    reason = table_exclusion(party, party_store, table)
    if reason is not None:
        context.log.warning(f"party {party} is left out of training: {reason}; "
                            f"{what_to_do(party)}")
        return dg.Output(
            left_out_summary(party, reason, len(table), config.max_modes, config.seed),
            metadata={"party": party, "rows": len(table), "left_out_of_training": reason,
                      "what_to_do": what_to_do(party)},
        )
    view = StoredColumns(table)
    declaration, schema = declared_schema(party, view, columns.label, columns.discrete_columns)
    summary = summarize_stored(party, view, schema, config.max_modes, config.seed)
    profile = profile_party_chunks(table.chunks(), columns.label,
                                   discrete_columns=list(columns.discrete_columns), party=party)
    context.log.info(f"party {party}: {summary.n_rows} rows, imbalance ratio "
                     f"{profile.imbalance_ratio:.2f}")
    value = {
        "party": party,
        "declaration": declaration,
        "summary": summary.to_dict(),
        "profile": profile.to_dict(),
        "max_modes": config.max_modes,
        "seed": config.seed,
    }
    return dg.Output(value, metadata=party_summary_metadata(summary, profile))
