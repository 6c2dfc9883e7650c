"""Profiling assets: direct invocation and the end-to-end run over several parties."""

from __future__ import annotations

import dagster as dg
from party_fixtures import adult_slice, needs_adult, resources, write_party

from pipelines.defs.ingest import raw_party_table, validated_party_table
from pipelines.defs.profiling import cross_party_profile, party_profile
from pipelines.resources import PartyStore

pytestmark = needs_adult

ASSETS = [raw_party_table, validated_party_table, party_profile,
          cross_party_profile]
PER_PARTY = ["raw_party_table", "validated_party_table", "party_profile"]


def test_party_profile_by_direct_invocation(tmp_path):
    store = PartyStore(root=str(tmp_path))
    store.write_validated("party_0", adult_slice(0, 200))

    output = party_profile(
        dg.build_asset_context(partition_key="party_0", resources={"party_store": store})
    )

    profile = output.value
    assert profile["party"] == "party_0" and profile["label"] == "income"
    assert profile["n_rows"] == 200 and sum(profile["class_counts"].values()) == 200
    assert set(profile["category_frequencies"]) >= {"workclass", "native-country", "income"}
    assert "| income" in output.metadata["class_counts"].value
    assert output.metadata["class_counts_json"].data == profile["class_counts"]


def test_cross_party_profile_by_direct_invocation(tmp_path):
    store = PartyStore(root=str(tmp_path))
    rich = adult_slice(0, 300)
    store.write_validated("big", rich)
    store.write_validated("small", rich[rich["income"] == "<=50K"].head(30))
    profiles = {
        p: party_profile(
            dg.build_asset_context(partition_key=p, resources={"party_store": store})
        ).value
        for p in ("big", "small")
    }

    output = cross_party_profile(dg.build_asset_context(), party_profile=profiles)

    assert output.value["party_sizes"] == {"big": 300, "small": 30}
    assert output.value["missing_classes"]["small"] == [">50K"]
    assert output.metadata["size_ratio"].value == 10.0
    table = output.metadata["per_party"].value
    assert "label_jsd" in table and ">50K" in table


def test_end_to_end_profiles_skip_a_blocked_party(tmp_path):
    landing = tmp_path / "landing"
    write_party(landing, "party_0", adult_slice(0, 150))
    write_party(landing, "party_1", adult_slice(150, 190))
    write_party(landing, "party_x", adult_slice(190, 220).drop(columns=["income"]))
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("parties", ["party_0", "party_1", "party_x"])
    res = resources(tmp_path)

    outcomes = {
        p: dg.materialize(ASSETS, selection=PER_PARTY, partition_key=p, instance=instance,
                          resources=res, raise_on_error=False).success
        for p in ("party_0", "party_1", "party_x")
    }
    cross = dg.materialize(ASSETS, selection=["cross_party_profile"], instance=instance,
                           resources=res)

    assert outcomes == {"party_0": True, "party_1": True, "party_x": False}
    value = cross.output_for_node("cross_party_profile")
    assert value["party_sizes"] == {"party_0": 150, "party_1": 40}
    assert cross.asset_materializations_for_node("cross_party_profile")[0].metadata[
        "parties"
    ].value == 2
