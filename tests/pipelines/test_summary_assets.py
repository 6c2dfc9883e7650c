"""Party summaries and the global encoder: direct invocation and the run over several parties."""

from __future__ import annotations

import dagster as dg
from party_fixtures import adult_slice, needs_adult, resources, write_party

from dagan_core.data.encoder import TableEncoder
from dagan_core.data.schema import declare_columns, merge_declarations, validate_table
from dagan_core.data.summary import PartySummary, summarize_party
from pipelines.contracts import model_columns
from pipelines.defs.ingest import raw_party_table, validated_party_table
from pipelines.defs.summaries import global_encoder, party_summary
from pipelines.resources import PartyStore

pytestmark = needs_adult

ASSETS = [raw_party_table, validated_party_table, party_summary, global_encoder]
PER_PARTY = ["raw_party_table", "validated_party_table", "party_summary"]
CONFIG = {"max_modes": 3, "seed": 0}


def _summary(store: PartyStore, party: str) -> dg.Output:
    context = dg.build_asset_context(partition_key=party, resources={"party_store": store})
    return party_summary(context, config=CONFIG)


def test_party_summary_equals_the_summary_fit_computes_from_the_whole_table(tmp_path):
    store = PartyStore(root=str(tmp_path))
    table = adult_slice(0, 200)
    store.write_validated("party_0", table)
    columns = model_columns()

    output = _summary(store, "party_0")

    declared = declare_columns("party_0", table, columns.label, list(columns.discrete_columns))
    schema = merge_declarations({"party_0": declared}, columns.label)
    expected = summarize_party("party_0", validate_table("party_0", table, schema), schema, 3, 0)
    assert output.value["summary"] == expected.to_dict()
    assert output.value["declaration"] == {c: list(v) for c, v in declared.items()}
    profile = output.value["profile"]
    assert profile["n_rows"] == 200 and sum(profile["class_counts"].values()) == 200
    shared = output.metadata["shared_columns"].value
    assert "| age" in shared and "mixture modes" in shared and "category counts" in shared
    assert output.metadata["class_counts_json"].data == profile["class_counts"]


def test_global_encoder_merges_summaries_like_fit_does(tmp_path):
    store = PartyStore(root=str(tmp_path))
    rich = adult_slice(0, 300)
    tables = {"big": rich, "small": rich[rich["income"] == "<=50K"].head(30)}
    for party, table in tables.items():
        store.write_validated(party, table.reset_index(drop=True))
    summaries = {p: _summary(store, p).value for p in tables}

    output = global_encoder(dg.build_asset_context(partition_key="v1"), party_summary=summaries)

    label = model_columns().label
    discrete = list(model_columns().discrete_columns)
    schema = merge_declarations(
        {p: declare_columns(p, t, label, discrete) for p, t in tables.items()}, label)
    expected = TableEncoder.from_summaries(
        schema, [PartySummary.from_dict(summaries[p]["summary"]) for p in ("big", "small")], 3, 0)
    assert output.value["encoder"] == expected.to_dict()
    assert output.value["parties"] == ["big", "small"]
    assert output.metadata["size_ratio"].value == 10.0
    assert output.metadata["missing_classes"].data["small"] == [">50K"]
    assert "label_jsd" in output.metadata["per_party"].value


def test_parties_summarised_with_different_settings_are_refused(tmp_path):
    store = PartyStore(root=str(tmp_path))
    store.write_validated("a", adult_slice(0, 100))
    store.write_validated("b", adult_slice(100, 200))
    summaries = {"a": _summary(store, "a").value, "b": _summary(store, "b").value}
    summaries["b"] = {**summaries["b"], "max_modes": 5}

    try:
        global_encoder(dg.build_asset_context(partition_key="v1"), party_summary=summaries)
    except dg.Failure as err:
        assert "different (max_modes, seed)" in str(err) and "'b': (5, 0)" in str(err)
    else:
        raise AssertionError("mixed summary settings were accepted")


def test_end_to_end_encoder_leaves_out_a_blocked_party(tmp_path):
    landing = tmp_path / "landing"
    write_party(landing, "party_0", adult_slice(0, 150))
    write_party(landing, "party_1", adult_slice(150, 190))
    write_party(landing, "party_x", adult_slice(190, 220).drop(columns=["income"]))
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("parties", ["party_0", "party_1", "party_x"])
    instance.add_dynamic_partitions("model_versions", ["v1"])
    res = resources(tmp_path)

    outcomes = {
        p: dg.materialize(ASSETS, selection=PER_PARTY, partition_key=p, instance=instance,
                          resources=res, raise_on_error=False).success
        for p in ("party_0", "party_1", "party_x")
    }
    encoded = dg.materialize(ASSETS, selection=["global_encoder"], partition_key="v1",
                             instance=instance, resources=res)

    assert outcomes == {"party_0": True, "party_1": True, "party_x": False}
    value = encoded.output_for_node("global_encoder")
    assert value["parties"] == ["party_0", "party_1"]
    assert {p: s["n_rows"] for p, s in value["summaries"].items()} == {
        "party_0": 150, "party_1": 40}
    metadata = encoded.asset_materializations_for_node("global_encoder")[0].metadata
    assert metadata["parties"].value == 2 and metadata["encoded_width"].value > 0
