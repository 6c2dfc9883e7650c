"""Profiling assets: each party's imbalance profile and the comparison of all parties."""


from typing import Any

import dagster as dg

from pipelines.defs.profiling.helpers import (
    PROFILE_SCHEMA,
    build_cross_party_profile,
    build_party_profile,
    cross_party_metadata,
    party_profile_metadata,
)
from pipelines.partitions import party_partitions
from pipelines.resources import PartyStore
from pipelines.resources.party_store import VALIDATED


@dg.asset(
    partitions_def=party_partitions,
    group_name="profiling",
    deps=["validated_party_table"],
    kinds={"pandas"},
    owners=["team:data-engineering"],
    tags={"privacy": "counts-only"},
    metadata={"dagster/column_schema": PROFILE_SCHEMA},
    description=(
        "Intra-party imbalance of one party's validated table: size, label mix, imbalance "
        "ratio, category shares and null rates. Holds counts and shares only, never rows; the "
        "table is read chunk by chunk."
    ),
)
def party_profile(
    context: dg.AssetExecutionContext, party_store: PartyStore
) -> dg.Output[dict[str, Any]]:
    party = context.partition_key
    profile = build_party_profile(party, party_store.open(party, VALIDATED).chunks())
    context.log.info(
        f"party {party}: {profile.n_rows} rows, imbalance ratio {profile.imbalance_ratio:.2f}"
    )
    return dg.Output(profile.to_dict(), metadata=party_profile_metadata(profile))


@dg.asset(
    group_name="profiling",
    ins={
        "party_profile": dg.AssetIn(
            partition_mapping=dg.AllPartitionMapping(),
            # a party whose table failed its contract has no profile; compare the others
            metadata={"allow_missing_partitions": True},
        )
    },
    kinds={"pandas"},
    owners=["team:data-engineering"],
    tags={"privacy": "counts-only"},
    metadata={"dagster/column_schema": PROFILE_SCHEMA},
    description=(
        "Inter-party imbalance from the party profiles: size ratio, each party's label "
        "Jensen-Shannon divergence to the pooled mix, classes a party lacks or holds alone."
    ),
)
def cross_party_profile(
    context: dg.AssetExecutionContext, party_profile: dict[str, dict[str, Any]]
) -> dg.Output[dict[str, Any]]:
    cross = build_cross_party_profile(party_profile)
    context.log.info(
        f"{len(cross.party_sizes)} parties, size ratio {cross.size_ratio:.2f}"
    )
    return dg.Output(cross.to_dict(), metadata=cross_party_metadata(cross))
