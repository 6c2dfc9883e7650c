"""The party table contract, run as a blocking check on each party's raw table."""

import warnings

import dagster as dg

from pipelines.defs.ingest.assets import raw_party_table
from pipelines.defs.ingest.helpers import CHECK_NAME, contract_check_result
from pipelines.partitions import party_partitions
from pipelines.resources import PartyStore
from pipelines.resources.party_store import RAW

# The check is partitioned like its asset so that each party has its own verdict in the UI.
# Dagster marks partitioned checks as preview; the warning is expected here, not news.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.PreviewWarning)

    @dg.asset_check(
        asset=raw_party_table,
        name=CHECK_NAME,
        blocking=True,
        partitions_def=party_partitions,
        description=(
            "Runs the Great Expectations suite data_contracts/suites/party_table.json. A "
            "schema-level failure (missing/extra column, wrong column type, no rows) fails the "
            "check and stops this party's downstream assets; row-level failures only warn "
            "(those rows are quarantined by validated_party_table)."
        ),
    )
    def party_table_contract(
        context: dg.AssetCheckExecutionContext, party_store: PartyStore
    ) -> dg.AssetCheckResult:
        party = context.partition_key
        result = contract_check_result(party, party_store.open(party, RAW))
        context.log.info(result.description or "")
        return result
