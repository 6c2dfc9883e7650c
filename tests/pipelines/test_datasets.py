"""Dataset files, warehouse namespaces, contract drafts and their checks (fast, no training)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from pipelines import cli, contracts, settings
from pipelines.contracts.draft import draft_contract, draft_from_columns, write_draft
from pipelines.datasets import DatasetError, load_dataset


@pytest.fixture(autouse=True)
def _no_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DAGAN_DATASET", "DAGAN_PARTY_CONTRACT", "DAGAN_LANDING_DIR", "DAGAN_TEST_SET"):
        monkeypatch.delenv(name, raising=False)


def _sample() -> pd.DataFrame:
    return pd.DataFrame({
        "age": [25, 40, 61, 33],
        "amount": [1.5, 2.25, 10.0, 3.0],
        "job": ["a", "b", "a", None],
        "y": ["no", "yes", "no", "no"],
    })


def _drafted(tmp_path: Path, name: str = "toy") -> Path:
    draft = draft_contract(_sample(), "y", name)
    (tmp_path / "landing" / "p1").mkdir(parents=True)
    _sample().to_csv(tmp_path / "landing" / "p1" / "p1.csv", index=False)
    _sample().to_csv(tmp_path / "test.csv", index=False)
    return write_draft(draft, tmp_path / name, "../landing", "../test.csv")["dataset"]


def test_adult_is_the_default_and_keeps_its_files_and_schemas() -> None:
    adult = load_dataset()
    assert adult.name == "adult" and adult.namespace == ""
    assert settings.party_contract_path() == settings.REPO_ROOT / "data_contracts" / "suites" / (
        "party_table.json")
    assert settings.party_contract_doc_path() == settings.REPO_ROOT / "data_contracts" / (
        "party_table.yaml")
    assert settings.test_set_path() == settings.REPO_ROOT / "demo" / "reference" / (
        "adult_test.csv")
    assert settings.landing_dir() == settings.REPO_ROOT / "demo" / "landing"
    assert settings.warehouse_schema("synthetic") == "synthetic"
    assert settings.party_store_dir() == settings.var_dir() / "parties"
    assert contracts.model_columns().label == "income"


def test_a_dataset_file_moves_every_component(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    file = _drafted(tmp_path)
    monkeypatch.setenv("DAGAN_DATASET", str(file.parent))  # the folder selects its file
    assert settings.party_contract_path() == tmp_path / "toy" / "suites" / "toy.json"
    assert settings.landing_dir() == tmp_path / "landing"
    assert settings.test_set_path() == tmp_path / "test.csv"
    assert settings.warehouse_schema("marts") == "marts_toy"
    assert settings.model_store_dir() == settings.var_dir() / "datasets" / "toy" / "models"
    assert contracts.model_columns().label == "y"
    assert list(contracts.column_docs()) == ["age", "amount", "job", "y"]
    assert contracts.contract_spec().discrete_columns == ("job", "y")


def test_bad_dataset_files_are_refused_naming_file_and_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(DatasetError, match="no such dataset file or folder.*adult"):
        load_dataset("nope")
    file = _drafted(tmp_path)
    data = yaml.safe_load(file.read_text())
    file.write_text(yaml.safe_dump({**data, "namespace": "Bad-Name"}))
    with pytest.raises(DatasetError, match="'namespace' is 'Bad-Name'"):
        load_dataset(file)
    file.write_text(yaml.safe_dump({**data, "label": "age"}))
    monkeypatch.setenv("DAGAN_DATASET", str(file))
    with pytest.raises(DatasetError, match="label 'age' but its contract .* says meta.label 'y'"):
        contracts.model_columns()


def test_a_namespace_holds_one_dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.namespaces import claim_namespace

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    claim_namespace(con)  # adult claims ''
    claim_namespace(con)  # and again: same dataset
    file = _drafted(tmp_path)
    data = yaml.safe_load(file.read_text())
    file.write_text(yaml.safe_dump({**data, "namespace": ""}))  # toy aims at Adult's schemas
    monkeypatch.setenv("DAGAN_DATASET", str(file))
    with pytest.raises(ValueError, match=r"holds dataset 'adult'.*only in 'toy': \['amount', "
                                         r"'job', 'y'\]"):
        claim_namespace(con)
    assert con.execute("SELECT namespace, dataset FROM main.dagan_datasets").fetchall() == [
        ("", "adult")]


def test_draft_infers_types_values_ranges_and_nulls() -> None:
    draft = draft_contract(_sample(), "y", "toy", max_categories=1)
    by_name = {c.name: c for c in draft.columns}
    assert (by_name["age"].type, by_name["age"].range) == ("int64", (25, 61))
    assert (by_name["amount"].type, by_name["amount"].range) == ("float64", (1.5, 10))
    assert by_name["job"].nullable and by_name["job"].allowed is None  # 2 values > 1
    assert by_name["y"].allowed == ["no", "yes"]  # the label always gets its classes
    assert any("widen it" in d for d in draft.decisions)
    with pytest.raises(ValueError, match="label 'z' is not a column"):
        draft_contract(_sample(), "z", "toy")
    listed = draft_from_columns("age:int,amount:float,y:str", "y", "toy")
    assert [c.type for c in listed.columns] == ["int64", "float64", "string"]
    with pytest.raises(ValueError, match="'age:date'"):
        draft_from_columns("age:date,y:str", "y", "toy")


def test_check_finds_what_ingest_would_quarantine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = _drafted(tmp_path)
    assert cli.main(["contract", "check", "--contract", str(file), "--landing",
                     str(tmp_path / "landing"), "--party", "p1"]) == 0
    bad = _sample().assign(age=[25, 40, 99, 33])
    (tmp_path / "landing" / "p2").mkdir()
    bad.to_csv(tmp_path / "landing" / "p2" / "p2.csv", index=False)
    capsys.readouterr()
    assert cli.main(["contract", "check", "--contract", str(file), "--landing",
                     str(tmp_path / "landing"), "--party", "p2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("party p2: 1 of 4 rows break the contract toy.json: file 'p2.csv' row 3, "
                   "column 'age', value 99: age=99 is outside [25, 61]")
    assert cli.main(["contract", "check", "--contract", str(file), "--landing",
                     str(tmp_path / "landing"), "--party", "p3"]) == 2
    assert "dagan contract check: party 'p3': no folder" in capsys.readouterr().err


def test_init_refuses_to_overwrite_and_writes_a_loadable_suite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _sample().to_csv(tmp_path / "s.csv", index=False)
    args = ["contract", "init", "--sample", str(tmp_path / "s.csv"), "--label", "y", "--out",
            str(tmp_path / "toy")]
    assert cli.main(args) == 0
    assert "reveals facts about the rows" in capsys.readouterr().out
    suite = contracts.read_suite_json(tmp_path / "toy" / "suites" / "toy.json")
    assert suite["meta"]["column_types"] == {"age": "int64", "amount": "float64",
                                             "job": "string", "y": "string"}
    assert json.loads((tmp_path / "toy" / "suites" / "toy.json").read_text()) == suite
    assert cli.main(args) == 2
    assert "exists; use --force" in capsys.readouterr().err


def test_sql_models_move_to_a_namespace() -> None:
    from pipelines.defs.analytics.assets import SQL_ROOT
    from pipelines.factories.sql_models import discover_sql_models, in_schemas

    model = next(m for m in discover_sql_models(SQL_ROOT) if m.table == "party_sizes")
    moved = in_schemas(model, {"synthetic": "synthetic_bank", "metrics": "metrics_bank",
                               "marts": "marts_bank"})
    assert moved.schema == "marts_bank"
    assert moved.reads == ("metrics_bank.real_class_mix", "synthetic_bank.rows")
    assert in_schemas(model, {"marts": "marts"}) is model


_LOAD = """
import json
from pipelines.definitions import defs
from pipelines.partitions import model_versions, party_partitions
graph = defs.resolve_asset_graph()
names = {key.to_user_string(): graph.get(key).metadata.get("dagster/table_name")
         for key in graph.get_all_asset_keys()}
print(json.dumps({"partitions": [party_partitions.name, model_versions.name], "tables": names}))
"""


def test_the_code_location_loads_for_another_dataset(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    file = _drafted(tmp_path)
    env = {**os.environ, "DAGAN_DATASET": str(file), "PYTHONPATH": str(settings.REPO_ROOT)}
    for name in ("DAGAN_PARTY_CONTRACT", "DAGAN_LANDING_DIR", "DAGAN_TEST_SET"):
        env.pop(name, None)
    done = subprocess.run([sys.executable, "-c", _LOAD], env=env, capture_output=True,
                          text=True, timeout=300, cwd=settings.REPO_ROOT)
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded["partitions"] == ["parties_toy", "model_versions_toy"]
    assert loaded["tables"]["synthetic_table"] == "synthetic_toy.rows"
    assert loaded["tables"]["utility_metrics"] == "metrics_toy.utility"
    assert loaded["tables"]["marts_toy/utility_leaderboard"] == "marts_toy.utility_leaderboard"
