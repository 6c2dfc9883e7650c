"""Ingest assets: each party's landing files become its raw table, then its validated table.

The contract runs once per party, in ``validated_party_table``, which reports its verdict as the
blocking asset check ``party_table_contract``. Both assets stream: the landing files are read, and
the stored tables written and read, in chunks of ``DAGAN_INGEST_CHUNK_ROWS`` rows, so a run holds
one chunk whatever the size of the files.
"""

from collections.abc import Iterator

import dagster as dg
import pyarrow as pa

from pipelines.contracts import shared_table_schema
from pipelines.defs.ingest.contract_check import (
    CHECK_DESCRIPTION,
    CHECK_NAME,
    contract_check_result,
)
from pipelines.defs.ingest.sensors import LANDING_DIGEST, fingerprint_digest
from pipelines.defs.ingest.split import ContractBreachError, split_party_table
from pipelines.defs.ingest.table_metadata import raw_table_metadata
from pipelines.partitions import party_partitions
from pipelines.resources import LandingArea, PartyStore
from pipelines.resources.party_store import RAW


@dg.asset(
    partitions_def=party_partitions,
    group_name="ingest",
    kinds={"pandas", "parquet"},
    owners=["team:data-engineering"],
    tags={"privacy": "party-private"},
    metadata={"dagster/column_schema": shared_table_schema()},
    description=(
        "One party's landing files (CSV/Parquet) read as one table, unchanged, into the party's "
        "private store, chunk by chunk. The landing files are only read."
    ),
)
def raw_party_table(
    context: dg.AssetExecutionContext, landing: LandingArea, party_store: PartyStore
) -> dg.MaterializeResult:
    party = context.partition_key
    digest = fingerprint_digest(landing.fingerprint(party))
    stream = landing.stream_party(party)
    text = {name: pa.string() for name in stream.columns if stream.is_text(name)}
    attrs = stream.attrs()
    for warning in stream.warnings:
        context.log.warning(warning)
    with party_store.writer(party, RAW, types=text, attrs=attrs) as writer:
        for chunk in stream.chunks():
            writer.write(chunk)
        dtypes, stored = writer.dtypes, writer.commit()
    context.log.info(f"party {party}: read {writer.rows} rows from {len(stream.files)} file(s)")
    metadata = raw_table_metadata(
        party, writer.rows, dtypes, stream.files, landing.party_dir(party), stored
    )
    metadata["landing_warnings"] = dg.MetadataValue.md(
        "\n".join(f"- {w}" for w in stream.warnings) or "none"
    )
    return dg.MaterializeResult(metadata={**metadata, LANDING_DIGEST: digest})


@dg.asset(
    partitions_def=party_partitions,
    group_name="ingest",
    deps=[raw_party_table],
    kinds={"pandas", "parquet"},
    owners=["team:data-engineering"],
    tags={"privacy": "party-private"},
    metadata={"dagster/column_schema": shared_table_schema()},
    check_specs=[
        dg.AssetCheckSpec(
            CHECK_NAME, asset="validated_party_table", blocking=True,
            description=CHECK_DESCRIPTION,
        )
    ],
    description=(
        "The party's rows that meet the table contract, typed as the contract says. Rows that "
        "break a row-level rule go to the party's quarantine table with rule, column, value, "
        "reason, landing file and data row number; rows read = rows validated + rows "
        "quarantined."
    ),
)
def validated_party_table(
    context: dg.AssetExecutionContext, party_store: PartyStore
) -> Iterator[dg.AssetCheckResult | dg.MaterializeResult]:
    party = context.partition_key
    raw = party_store.open(party, RAW)
    try:
        split = split_party_table(party, raw, party_store)
    except ContractBreachError as breach:
        check = contract_check_result(party, raw, breach.result)
        context.log.error(check.description or "")
        yield check  # the failed blocking check; the error then fails this asset's step
        raise
    check = contract_check_result(party, raw, split.result)
    context.log.info(check.description or "")
    if split.rows_quarantined:
        context.log.warning(
            f"party {party}: quarantined {split.rows_quarantined} of {split.rows_read} rows: "
            f"{split.problems()}"
        )
    yield check
    yield dg.MaterializeResult(metadata=split.metadata())
