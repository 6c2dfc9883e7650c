"""A (party, class) cell the fitted generator cannot make: found at the end of fit, reported,
and handled by the default release (no exception); ``strict=True`` still refuses."""

import re

import pandas as pd
import pytest
import torch

from dagan_core import ConditionError, load_synthesizer, make_synthesizer
from tests.conftest import TINY, three_parties


def _never_yes(synth, party: str):
    """An ``on_epoch_end`` callback that makes ``party``'s generator never output y='yes'."""

    def force(_stats) -> None:
        layout = synth.encoder.layout
        block = layout.cond_blocks[layout.label_block]
        yes = block.data_start + synth.encoder.vocab["y"].index("yes")
        with torch.no_grad():
            synth.generator_for(party).head.bias[yes] = -1e4

    return force


@pytest.fixture(scope="module")
def forced():
    """A one-epoch ``local`` model (one generator per party) whose party_b never makes 'yes'."""
    synth = make_synthesizer("local", **{**TINY, "epochs": 1})
    synth.fit(three_parties(), label="y", on_epoch_end=_never_yes(synth, "party_b"))
    return synth


def test_fit_probes_every_cell_and_reports_the_one_it_cannot_make(forced):
    cells = forced.model.cells
    assert cells["unproducible"] == [{"party": "party_b", "label_value": "yes"}]
    assert cells["rates"]["party_b"]["yes"] == 0.0
    assert cells["rates"]["party_b"]["no"] > 0 and cells["rates"]["party_a"]["yes"] > 0
    assert "yes" not in cells["rates"]["party_c"]  # party_c holds no 'yes': not a cell
    assert forced.history[-1]["unproducible_cells"] == cells["unproducible"]


def test_default_release_returns_every_row_and_counts_the_shortfall(forced):
    out = forced.sample(300, seed=1)

    assert len(out) == 300
    (short,) = out.attrs["shortfall"]
    asked_yes = short["asked"]
    assert short == {"party": "party_b", "condition": {"y": "yes"}, "asked": asked_yes,
                     "made": 0, "missing": asked_yes}
    assert asked_yes > 0 and out.attrs["unmet_rows"] == asked_yes
    assert (out.loc[out["party"] == "party_b", "y"] == "no").all()
    # a conditional call for the cell returns what it made (nothing) and says so
    asked = forced.sample(40, party="party_b", conditions={"y": "yes"}, seed=2)
    assert len(asked) == 0 and asked.attrs["shortfall"][0]["missing"] == 40


def test_strict_refuses_naming_party_and_class(forced):
    with pytest.raises(ConditionError) as error:
        forced.sample(300, seed=1, strict=True)
    said = str(error.value)
    assert said.startswith("the model of party 'party_b' did not produce the asked label "
                           "classes after 50 rounds (y='yes': ")
    assert said.endswith("; train it longer, or sample with strict=False to keep the rows it "
                         "makes")
    with pytest.raises(ConditionError, match="produced only 0 of 40 rows"):
        forced.sample(40, party="party_b", conditions={"y": "yes"}, seed=2, strict=True)


def test_producible_cells_give_the_same_rows_strict_or_not(forced):
    default = forced.sample(200, party="party_a", seed=4)
    assert default.attrs["shortfall"] == []
    pd.testing.assert_frame_equal(default, forced.sample(200, party="party_a", seed=4,
                                                         strict=True))


def test_saved_model_keeps_the_probe(forced, tmp_path):
    forced.save(tmp_path / "m")
    loaded = load_synthesizer(tmp_path / "m")

    assert loaded.model.cells == forced.model.cells
    assert loaded.history[-1]["unproducible_cells"] == [
        {"party": "party_b", "label_value": "yes"}]
    pd.testing.assert_frame_equal(loaded.sample(300, seed=1), forced.sample(300, seed=1))


def test_the_release_asset_reports_the_shortfall_per_cell(forced, tmp_path):
    """synthetic_table (the real asset, a real warehouse) publishes every row of the version
    and reports the cell it fell short on, in its metadata and its run log."""
    import dagster as dg

    from pipelines.defs.synthesis.assets import synthetic_table
    from pipelines.defs.training.assets import TRAINING_SUMMARY
    from pipelines.resources.model_store import ModelStore
    from pipelines.resources.warehouse import Warehouse

    store = ModelStore(root=str(tmp_path / "models"))
    with store.writing("forced") as staging:
        forced.save(staging)
    parties = three_parties()
    store.write_json("forced", TRAINING_SUMMARY, {
        "label": "y", "left_out": {},
        "parties": {p: {"rows": len(df), "class_counts": df["y"].value_counts().to_dict()}
                    for p, df in parties.items()}})
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("model_versions", ["forced"])
        result = dg.materialize(
            [synthetic_table], partition_key="forced", instance=instance,
            resources={"model_store": store,
                       "warehouse": Warehouse(path=str(tmp_path / "wh" / "w.duckdb"))},
            run_config=dg.RunConfig(ops={"synthetic_table": {"config": {
                "rows": 370, "seed": 1, "plot_columns": ["age", "color"]}}}))
        log = "\n".join(r.user_message or "" for r in instance.all_logs(result.run_id))

    (event,) = result.asset_materializations_for_node("synthetic_table")
    meta = event.metadata
    assert meta["dagster/row_count"].value == 370
    missing = meta["label_shortfall_rows"].value
    assert missing > 0
    table = meta["label_shortfall"].value
    (line,) = [cells for cells in (re.split(r"\s*\|\s*", row.strip("| ")) for row in
                                   table.splitlines()[2:])]
    assert line == ["party_b", "y=yes", str(missing), "0", str(missing)]
    assert f"{missing} of 370 rows carry another label than asked" in log


def test_dagan_sample_reports_the_cell_and_fails_with_strict(forced, tmp_path, capsys):
    from pipelines import cli

    forced.save(tmp_path / "models" / "forced" / "checkpoint")
    args = ["sample", "--version", "forced", "--n", "300", "--seed", "1", "--model-store",
            str(tmp_path / "models"), "--out", str(tmp_path / "rows.csv")]

    assert cli.main(args) == 0
    rows = pd.read_csv(tmp_path / "rows.csv")
    said = capsys.readouterr().out
    assert len(rows) == 300 and "wrote 300 rows" in said
    assert "the model did not make every row as asked (party party_b y='yes': " in said
    assert cli.main([*args, "--strict"]) == 2
    assert "did not produce the asked label classes" in capsys.readouterr().err
