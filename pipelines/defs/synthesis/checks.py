"""Privacy of the published synthetic rows, checked after every materialization (never blocks)."""

import warnings
from pathlib import Path

import dagster as dg

from pipelines import settings
from pipelines.defs.synthesis.assets import synthetic_table
from pipelines.defs.synthesis.privacy import CHECK_NAME, privacy_check_result
from pipelines.partitions import model_versions
from pipelines.resources.model_store import ModelStore
from pipelines.resources.party_store import PartyStore
from pipelines.resources.warehouse import Warehouse

# Partitioned like its asset, so each model version has its own verdict; Dagster marks partitioned
# checks as preview.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.PreviewWarning)

    @dg.asset_check(
        asset=synthetic_table,
        name=CHECK_NAME,
        blocking=False,
        partitions_def=model_versions,
        description=(
            "Warns when the version's synthetic rows sit closer to the training rows (the "
            "parties' validated rows) than unseen real rows (the test set, DAGAN_TEST_SET) do: "
            "5th percentile of the distance to the closest training row, and exact-copy rate. "
            "Also reports the membership-inference AUC."
        ),
    )
    def synthetic_privacy(
        context: dg.AssetCheckExecutionContext,
        model_store: ModelStore,
        party_store: PartyStore,
        warehouse: Warehouse,
    ) -> dg.AssetCheckResult:
        result = privacy_check_result(
            context.partition_key, model_store, party_store, warehouse,
            Path(settings.test_set_path()),
        )
        log = context.log.info if result.passed else context.log.warning
        log(result.description or "")
        return result
