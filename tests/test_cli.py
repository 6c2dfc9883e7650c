"""The ``dagan`` command line, each command in-process on tiny data."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from pipelines import cli, settings

DEMO = settings.REPO_ROOT / "demo"
DATASETS = settings.REPO_ROOT.parent / "shared" / "datasets"
PARTY_ROWS = {"party_0": 120, "party_1": 80, "party_2": 40}  # party_2 holds only ">50K"
TINY_TRAINING = {
    "epochs": 2, "batch_size": 60, "embedding_dim": 8, "generator_dims": [16],
    "critic_dims": [16], "pac": 2, "device": "cpu",
}

pytestmark = pytest.mark.skipif(not (DEMO / "landing").is_dir(), reason="demo data missing")


def tiny_landing(root: Path) -> Path:
    """Three party folders with the first rows of the demo parties."""
    for party, n in PARTY_ROWS.items():
        source = next((DEMO / "landing" / party).glob("*.csv"))
        (root / party).mkdir(parents=True)
        pd.read_csv(source, nrows=n).to_csv(root / party / f"{party}.csv", index=False)
    return root


@pytest.fixture(scope="module")
def model_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model store holding version ``v1``: a tiny DAGAN trained on the tiny parties."""
    import dagan_core
    from pipelines.contracts import model_columns

    root = tmp_path_factory.mktemp("cli")
    landing = tiny_landing(root / "landing")
    tables = {p: pd.read_csv(landing / p / f"{p}.csv") for p in PARTY_ROWS}
    columns = model_columns()
    synth = dagan_core.make_synthesizer(
        "dagan", **{**TINY_TRAINING, "generator_dims": (16,), "critic_dims": (16,)}
    )
    synth.fit(tables, label=columns.label, discrete_columns=list(columns.discrete_columns))
    synth.save(root / "models" / "v1" / "checkpoint")
    return root / "models"


def test_sample_writes_csv_and_parquet_with_conditions(
    model_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "rows.csv"
    args = ["sample", "--version", "v1", "--n", "40", "--seed", "3", "--out", str(out),
            "--model-store", str(model_store)]
    assert cli.main(args) == 0
    rows = pd.read_csv(out)
    assert len(rows) == 40 and set(rows["party"]) <= set(PARTY_ROWS)
    assert "wrote 40 rows" in capsys.readouterr().out
    again = tmp_path / "again.csv"
    assert cli.main([*args[:-3], str(again), "--model-store", str(model_store)]) == 0
    pd.testing.assert_frame_equal(rows, pd.read_csv(again))  # same seed, same rows

    rare = tmp_path / "rare.parquet"
    assert cli.main(["sample", "--version", "v1", "--n", "25", "--party", "party_0",
                     "--condition", "income=>50K", "--out", str(rare),
                     "--model-store", str(model_store)]) == 0
    rare_rows = pd.read_parquet(rare)
    assert len(rare_rows) == 25
    assert set(rare_rows["party"]) == {"party_0"} and set(rare_rows["income"]) == {">50K"}


def test_sample_errors_name_the_problem(
    model_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--n", "5", "--model-store", str(model_store)]
    assert cli.main(["sample", "--version", "nope", "--out", str(tmp_path / "x.csv"), *base]) == 2
    assert "stored versions: v1" in capsys.readouterr().err
    # party_2 holds no "<=50K": the library's ConditionError names the parties that do.
    assert cli.main(["sample", "--version", "v1", "--party", "party_2", "--condition",
                     "income=<=50K", "--out", str(tmp_path / "x.csv"), *base]) == 2
    err = capsys.readouterr().err
    assert "dagan sample:" in err and "party_2" in err
    assert cli.main(["sample", "--version", "v1", "--condition", "income",
                     "--out", str(tmp_path / "x.csv"), *base]) == 2
    assert "COLUMN=VALUE" in capsys.readouterr().err
    assert cli.main(["sample", "--version", "v1", "--out", str(tmp_path / "x.txt"), *base]) == 2
    assert ".csv or .parquet" in capsys.readouterr().err
    assert cli.main(["sample", "--version", "v1", "--party", "nope",
                     "--out", str(tmp_path / "x.csv"), *base]) == 2
    assert "nope" in capsys.readouterr().err


def test_profile_prints_each_party_and_the_cross_party_view(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    landing = tiny_landing(tmp_path / "landing")
    assert cli.main(["profile", str(landing)]) == 0
    captured = capsys.readouterr()
    for party, n in PARTY_ROWS.items():
        assert f"== {party}: {n} rows" in captured.out
        assert f"read {party}: {n} rows" in captured.err  # progress on stderr
    assert "== cross-party: 3 parties, size ratio 3.00" in captured.out
    assert ">50K (only" not in captured.out  # party_0 and party_1 hold >50K too

    assert cli.main(["profile", str(landing), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["cross_party"]["party_sizes"] == PARTY_ROWS
    assert payload["cross_party"]["missing_classes"]["party_2"] == ["<=50K"]
    assert cli.main(["profile", str(tmp_path / "missing")]) == 2


def test_demo_runs_the_pipeline_and_shows_the_queries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch

    torch.set_num_threads(1)
    landing = tiny_landing(tmp_path / "landing")
    test_set = tmp_path / "test.csv"
    pd.read_csv(DEMO / "reference" / "adult_test.csv", nrows=200).to_csv(test_set, index=False)
    monkeypatch.setenv("DAGAN_LANDING_DIR", str(landing))
    monkeypatch.setenv("DAGAN_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DAGAN_TEST_SET", str(test_set))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    code = cli.main([
        "demo", "--version", "cli", "--epochs", "2", "--dagster-home", str(tmp_path / "home"),
        "--training-config", json.dumps(TINY_TRAINING),
        "--evaluation-config", json.dumps({"models": ["lr"], "max_rows": 300}),
    ])
    assert code == 0
    captured = capsys.readouterr()
    out = captured.out
    assert "epoch 2/2" in captured.out + captured.err  # per-epoch progress (run log)
    assert "Created temporary directory" not in captured.out + captured.err  # GX set-up noise
    _the_ui_sees_the_demo(tmp_path / "home", landing)
    from pipelines.demo import EXAMPLE_QUERIES

    for title in EXAMPLE_QUERIES:
        assert f"-- {title}" in out
    assert "demo finished" in out
    # Every table and column analysts query carries a COMMENT.
    from pipelines.resources.warehouse import Warehouse

    warehouse = Warehouse(path=str(tmp_path / "var" / "warehouse" / "dagan_warehouse.duckdb"))
    tables = warehouse.query(
        "SELECT schema_name || '.' || table_name AS name, comment FROM duckdb_tables() "
        "WHERE database_name = current_database()"
    )
    assert {"synthetic.rows", "metrics.utility", "marts.utility_leaderboard"} <= set(tables["name"])
    assert tables["comment"].notna().all(), tables[tables["comment"].isna()]
    columns = warehouse.query(
        "SELECT schema_name || '.' || table_name || '.' || column_name AS name, comment "
        "FROM duckdb_columns() WHERE database_name = current_database()"
    )
    assert columns["comment"].notna().all(), columns[columns["comment"].isna()]["name"].tolist()


def test_bench_forwards_its_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "datasets"
    data.mkdir()
    frames = [pd.read_csv(next((DEMO / "landing" / p).glob("*.csv")), nrows=200)
              for p in ("party_0", "party_2")]
    pd.concat(frames).to_csv(data / "adult.csv", index=False)
    pd.read_csv(DEMO / "reference" / "adult_test.csv", nrows=200).to_csv(
        data / "adult_test.csv", index=False
    )
    monkeypatch.setenv("DAGAN_DATASETS_DIR", str(data))  # the default of --data-dir
    out = tmp_path / "results"
    code = cli.main(["bench", "--dataset", "adult", "--variants", "dagan", "--seeds", "0",
                     "--epochs", "1", "--parties", "2", "--size-ratio", "2", "--jobs", "1",
                     "--out", str(out)])
    assert code == 0
    captured = capsys.readouterr()
    assert "| dagan |" in captured.out and "| trtr |" in captured.out
    assert "[2/2]" in captured.err  # one progress line per finished job
    results = json.loads((out / "adult_K2_r2_b0.1_e1.json").read_text())["results"]
    assert {r["variant"] for r in results} == {"trtr", "dagan"}


def test_scaling_and_flops_forward_their_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["scaling", "--help"])
    assert done.value.code == 0
    assert "usage: dagan scaling" in capsys.readouterr().out
    with pytest.raises(SystemExit) as done:
        cli.main(["flops", "--count-steps", "0"])
    assert done.value.code == 2
    assert "dagan flops: error: --count-steps" in capsys.readouterr().err


def _the_ui_sees_the_demo(home: Path, landing: Path) -> None:
    """The demo's Dagster home holds its materializations (with the threads used), and the
    party sensor that starts with the UI on that home asks for no ingest run."""
    import dagster as dg

    from pipelines.defs.ingest import party_sensor
    from pipelines.resources.landing import LandingArea
    from pipelines.threads import default_threads

    with dg.DagsterInstance.from_config(str(home)) as instance:
        model = instance.get_latest_materialization_event(dg.AssetKey("dagan_model"))
        assert model is not None and model.asset_materialization.partition == "cli"
        assert model.asset_materialization.metadata["threads"].value == default_threads()
        metrics = instance.get_latest_materialization_event(dg.AssetKey("utility_metrics"))
        assert "models lr;" in metrics.asset_materialization.metadata["evaluation_setting"].value
        tick = party_sensor(dg.build_sensor_context(
            instance=instance, resources={"landing": LandingArea(root=str(landing))}))
        assert tick.run_requests == [] and tick.dynamic_partitions_requests == []


def test_the_demo_keeps_its_history_where_make_ui_looks(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.demo import default_dagster_home

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    makefile = (settings.REPO_ROOT / "Makefile").read_text()
    assert "UI_HOME ?= $(CURDIR)/.dagster_home" in makefile
    assert default_dagster_home() == settings.REPO_ROOT / ".dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", "/somewhere/else")
    assert default_dagster_home() == Path("/somewhere/else")
