"""A party with no row fit for training, through the real assets (landing files, GX, training).

Two good parties and one whose every row breaks the contract (each label unknown): the bad party
is summarised as left out with the reason, the encoder and the model version are built from the
others with a warning (``empty_party: exclude``, the default), and every record says who took
part; ``empty_party: block`` refuses to train and says what to do. A party whose validated table
lost every row after its encoder was built is handled the same way instead of breaking the fit.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from ingest_harness import WITH_SUMMARY, run_ingest

from pipelines.class_mix import participation
from pipelines.defs.summaries import global_encoder, party_summary
from pipelines.defs.synthesis.assets import synthetic_table
from pipelines.defs.training.assets import TRAINING_SUMMARY, dagan_model
from pipelines.resources import LandingArea, PartyStore
from pipelines.resources.model_store import ModelStore
from pipelines.resources.party_store import VALIDATED
from pipelines.resources.warehouse import Warehouse
from tests.pipelines.party_fixtures import adult_slice, needs_adult

pytestmark = needs_adult

GOOD = {"good_a": (0, 80), "good_b": (80, 140)}
TINY = {"epochs": 1, "batch_size": 40, "embedding_dim": 8, "generator_dims": [16],
        "critic_dims": [16], "pac": 2, "device": "cpu"}
REASON = ("a party needs at least 2 rows to train its critic, got 0 (30 of its 30 rows are in "
          "quarantine)")
TO_DO = ("read the quarantine table of party 'bad' (the validated_party_table check lists every "
         "row's reason), correct its landing files, rematerialize validated_party_table and "
         "party_summary for 'bad' (ingest_job), then global_encoder")


def _unknown_labels() -> pd.DataFrame:
    rows = adult_slice(140, 170)
    rows["income"] = "unknown"
    return rows


def _land(tmp_path: Path, party: str, rows: pd.DataFrame) -> None:
    folder = tmp_path / "landing" / party
    folder.mkdir(parents=True, exist_ok=True)
    rows.to_csv(folder / "rows.csv", index=False)


def _resources(tmp_path: Path) -> dict:
    return {
        "landing": LandingArea(root=str(tmp_path / "landing")),
        "party_store": PartyStore(root=str(tmp_path / "parties")),
        "model_store": ModelStore(root=str(tmp_path / "models")),
        "warehouse": Warehouse(path=str(tmp_path / "wh" / "w.duckdb")),
        "io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path / "io")),
    }


def _train(tmp_path, instance, version, *, policy=None, assets=("global_encoder", "dagan_model")):
    if version not in instance.get_dynamic_partitions("model_versions"):
        instance.add_dynamic_partitions("model_versions", [version])
    config = {**TINY, **({} if policy is None else {"empty_party": policy})}
    ops = {"dagan_model": {"config": config}} if "dagan_model" in assets else {}
    if "synthetic_table" in assets:
        ops["synthetic_table"] = {"config": {"rows": 100, "seed": 1}}
    return dg.materialize(
        [party_summary, global_encoder, dagan_model, synthetic_table], selection=list(assets),
        partition_key=version, instance=instance, resources=_resources(tmp_path),
        run_config=dg.RunConfig(ops=ops), raise_on_error=False)


def _log(instance, result) -> str:
    lines = []
    for record in instance.all_logs(result.run_id):
        lines.append(record.user_message or "")
        event = record.dagster_event
        if event is not None and event.is_step_failure:
            error = event.step_failure_data.error
            while error is not None:
                lines.append(error.message)
                error = error.cause
    return "\n".join(lines)


def _meta(result, node: str) -> dict:
    (event,) = result.asset_materializations_for_node(node)
    return {k: getattr(v, "value", v) for k, v in event.metadata.items()}


@pytest.fixture(scope="module")
def federation(tmp_path_factory):
    """Two good parties and one whose every label is unknown, ingested with GX and summarised."""
    tmp_path = tmp_path_factory.mktemp("empty_party")
    for party, (start, stop) in GOOD.items():
        _land(tmp_path, party, adult_slice(start, stop))
    _land(tmp_path, "bad", _unknown_labels())
    with dg.DagsterInstance.ephemeral() as instance:
        runs = {p: run_ingest(tmp_path, instance, p, WITH_SUMMARY) for p in [*GOOD, "bad"]}
        yield tmp_path, instance, runs


def test_party_without_valid_rows_is_summarised_as_left_out(federation):
    _, _, runs = federation
    run = runs["bad"]

    assert run.result.success and run.check.passed
    assert len(run.table("validated")) == 0 and len(run.table("quarantine")) == 30
    value = run.result.output_for_node("party_summary")
    assert value["left_out"] == REASON and "summary" not in value
    meta = run.meta("party_summary")
    assert meta["left_out_of_training"] == REASON and meta["rows"] == 0
    assert meta["what_to_do"] == TO_DO
    assert f"party bad is left out of training: {REASON}; {TO_DO}" in run.log
    assert all(r.result.success for r in runs.values())


def test_exclude_trains_the_others_and_every_record_names_the_left_out_party(federation):
    tmp_path, instance, _ = federation

    result = _train(tmp_path, instance, "v1",
                    assets=("global_encoder", "dagan_model", "synthetic_table"))

    assert result.success
    log = _log(instance, result)
    encoder = result.output_for_node("global_encoder")
    assert encoder["parties"] == ["good_a", "good_b"] and encoder["left_out"] == {"bad": REASON}
    assert _meta(result, "global_encoder")["left_out_parties"] == {"bad": REASON}
    assert f"party bad is left out of the encoder: {REASON}" in log
    model = _meta(result, "dagan_model")
    assert model["parties_trained"] == ["good_a", "good_b"]
    assert model["left_out_parties"] == {"bad": REASON} and model["empty_party"] == "exclude"
    assert f"training without party bad: {REASON}; to include it, {TO_DO}" in log
    store = _resources(tmp_path)["model_store"]
    record = store.read_json("v1", TRAINING_SUMMARY)
    assert sorted(record["parties"]) == ["good_a", "good_b"]
    assert record["left_out"] == {"bad": REASON}
    import dagan_core

    saved = dagan_core.load_synthesizer(store.path("v1"))
    assert saved.summaries.keys() == {"good_a", "good_b"}
    # the end-of-fit probe of the cells the generator makes, as saved with the model
    assert model["unproducible_cells"] == saved.model.cells["unproducible"]
    assert set(saved.model.cells["rates"]) == {"good_a", "good_b"}
    assert "good_a" in model["cell_probe"] and "bad" not in model["cell_probe"]
    # the release mix: rows of the two parties only, and it says why the third has none
    release = _meta(result, "synthetic_table")
    assert release["left_out_parties"] == {"bad": REASON}
    assert set(release["rows_per_party"]) == {"good_a", "good_b"}
    assert participation(record).to_dict("records")[-1] == {
        "party": "bad", "took_part": False, "rows": 0, "reason": REASON}
    assert "the rows of model version v1 carry nothing of party bad" in log


def test_block_refuses_to_train_naming_the_party_and_what_to_do(federation):
    tmp_path, instance, _ = federation

    result = _train(tmp_path, instance, "v_block", policy="block")

    assert not result.success
    message = (f"empty_party=block: training refused because party 'bad' cannot take part: "
               f"{REASON}. To include it, {TO_DO}. To train the other parties without it, set "
               "empty_party: exclude on dagan_model")
    assert message in _log(instance, result)
    assert not _resources(tmp_path)["model_store"].path("v_block").exists()


def test_party_emptied_after_its_encoder_was_built_is_left_out(tmp_path):
    """A party's earlier summary is in the encoder; its next landing quarantines every row."""
    for party, (start, stop) in GOOD.items():
        _land(tmp_path, party, adult_slice(start, stop))
    _land(tmp_path, "late", adult_slice(140, 170))
    with dg.DagsterInstance.ephemeral() as instance:
        for party in [*GOOD, "late"]:
            assert run_ingest(tmp_path, instance, party, WITH_SUMMARY).result.success
        assert _train(tmp_path, instance, "v1", assets=("global_encoder",)).success
        _land(tmp_path, "late", _unknown_labels())
        assert run_ingest(tmp_path, instance, "late").result.success  # no new summary yet

        result = _train(tmp_path, instance, "v1", assets=("dagan_model",))

        assert result.success
        left = {"late": "its validated table changed after global_encoder: a party needs at "
                        "least 2 rows to train its critic, got 0"}
        assert _meta(result, "dagan_model")["left_out_parties"] == left
        assert f"training without party late: {left['late']}" in _log(instance, result)


def test_column_empty_in_every_row_leaves_the_party_out(tmp_path):
    """A contract with a nullable column could let a table through whose column has no value."""
    store = PartyStore(root=str(tmp_path / "parties"))
    rows = adult_slice(0, 30).astype({"workclass": object})
    rows["workclass"] = None
    store.write_validated("hollow", rows)

    output = party_summary(
        dg.build_asset_context(partition_key="hollow", resources={"party_store": store}),
        config={"max_modes": 3, "seed": 0},
    )

    reason = "column 'workclass' is empty in every one of its 30 rows"
    assert output.value["left_out"] == reason
    assert output.metadata["left_out_of_training"].value == reason
    assert store.table_path("hollow", VALIDATED).exists()
