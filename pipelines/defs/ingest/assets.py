"""Ingest assets: each party's landing files become its raw table, then its validated table."""


import dagster as dg

from pipelines.contract_meta import shared_table_schema
from pipelines.defs.ingest.helpers import raw_table_metadata, split_party_table
from pipelines.partitions import party_partitions
from pipelines.resources import LandingArea, PartyStore


@dg.asset(
    partitions_def=party_partitions,
    group_name="ingest",
    kinds={"pandas", "parquet"},
    owners=["team:data-engineering"],
    tags={"privacy": "party-private"},
    metadata={"dagster/column_schema": shared_table_schema()},
    description=(
        "One party's landing files (CSV/Parquet) read as one table, unchanged, into the party's "
        "private store. The landing files are only read."
    ),
)
def raw_party_table(
    context: dg.AssetExecutionContext, landing: LandingArea, party_store: PartyStore
) -> dg.MaterializeResult:
    party = context.partition_key
    table, files = landing.read_party(party)
    stored = party_store.write_raw(party, table)
    context.log.info(f"party {party}: read {len(table)} rows from {len(files)} file(s)")
    return dg.MaterializeResult(
        metadata=raw_table_metadata(party, table, files, landing.party_dir(party), stored)
    )


@dg.asset(
    partitions_def=party_partitions,
    group_name="ingest",
    deps=[raw_party_table],
    kinds={"pandas", "parquet"},
    owners=["team:data-engineering"],
    tags={"privacy": "party-private"},
    metadata={"dagster/column_schema": shared_table_schema()},
    description=(
        "The party's rows that meet the table contract, typed as the contract says. Rows that "
        "break a row-level rule go to the party's quarantine table with rule, column, value, "
        "reason, landing file and data row number; rows read = rows validated + rows "
        "quarantined."
    ),
)
def validated_party_table(
    context: dg.AssetExecutionContext, party_store: PartyStore
) -> dg.MaterializeResult:
    party = context.partition_key
    split = split_party_table(party, party_store.read_raw(party))
    party_store.write_validated(party, split.validated)
    party_store.write_quarantine(party, split.quarantine)
    if len(split.quarantine):
        context.log.warning(
            f"party {party}: quarantined {len(split.quarantine)} of {split.rows_read} rows: "
            f"{split.problems()}"
        )
    return dg.MaterializeResult(metadata=split.metadata())
