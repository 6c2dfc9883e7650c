"""A second dataset beside Adult: Bank split into three parties, its contract drafted by
``dagan contract init``, checked by each party, then ingest, training, synthetic rows, metrics
and SQL in its own warehouse namespace of the warehouse Adult's run also writes.

Small data (a few hundred rows, 1 epoch, tiny networks). Nothing committed is edited: the
dataset's files live in a temporary folder and are selected with ``DAGAN_DATASET``.
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from pipelines import cli, settings

DEMO = settings.REPO_ROOT / "demo"
BANK = next(
    (p / "shared" / "datasets" / "bank.csv" for p in settings.REPO_ROOT.parents
     if (p / "shared" / "datasets" / "bank.csv").is_file()),
    None,
)
TINY = {"epochs": 1, "batch_size": 50, "embedding_dim": 8, "generator_dims": [16],
        "critic_dims": [16], "pac": 2, "device": "cpu"}
BANK_PARTIES = {"bank_a": 150, "bank_b": 100, "bank_c": 50}
ADULT_PARTIES = {"party_0": 100, "party_1": 60}  # (a single party loads as one value)

pytestmark = pytest.mark.skipif(BANK is None or not (DEMO / "landing").is_dir(),
                                reason="shared/datasets/bank.csv or the demo data missing")


def _bank_files(root: Path) -> tuple[Path, Path]:
    rows = pd.read_csv(BANK, nrows=400)
    landing, start = root / "landing", 0
    for party, n in BANK_PARTIES.items():
        (landing / party).mkdir(parents=True)
        rows.iloc[start:start + n].to_csv(landing / party / "part.csv", index=False)
        start += n
    rows.iloc[start:].to_csv(root / "bank_test.csv", index=False)
    return landing, root / "bank_test.csv"


def _adult_files(root: Path) -> tuple[Path, Path]:
    for party, n in ADULT_PARTIES.items():
        (root / "landing" / party).mkdir(parents=True)
        source = next((DEMO / "landing" / party).glob("*.csv"))
        pd.read_csv(source, nrows=n).to_csv(root / "landing" / party / "p.csv", index=False)
    pd.read_csv(DEMO / "reference" / "adult_test.csv", nrows=150).to_csv(root / "t.csv",
                                                                          index=False)
    return root / "landing", root / "t.csv"


SUMMARY = {"ops": {"party_summary": {"config": {"max_modes": 3, "seed": 0}}}}


def _run_config() -> dict:
    return {"ops": {
        "dagan_model": {"config": TINY},
        "synthetic_table": {"config": {"rows": 120, "seed": 1}},
        "utility_metrics": {"config": {"models": ["lr"], "max_rows": 300, "per_party": False}},
    }}


def _materialize(parties, version: str, sql_assets) -> None:
    from pipelines.defs.evaluation.assets import utility_metrics
    from pipelines.defs.ingest import raw_party_table, validated_party_table
    from pipelines.defs.summaries import global_encoder, party_summary
    from pipelines.defs.synthesis.assets import synthetic_table
    from pipelines.defs.training.assets import dagan_model
    from pipelines.resources import LandingArea, PartyStore
    from pipelines.resources.io import VarFilesystemIOManager
    from pipelines.resources.model_store import ModelStore
    from pipelines.resources.warehouse import Warehouse

    resources = {"landing": LandingArea(), "party_store": PartyStore(),
                 "model_store": ModelStore(), "warehouse": Warehouse(),
                 "io_manager": VarFilesystemIOManager()}
    model = [global_encoder, dagan_model, synthetic_table, utility_metrics]
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("parties", list(parties))
        instance.add_dynamic_partitions("model_versions", [version])
        for party in parties:
            assert dg.materialize([raw_party_table, validated_party_table, party_summary],
                                  partition_key=party, instance=instance, resources=resources,
                                  run_config=SUMMARY).success
        assert dg.materialize([party_summary, *model], selection=model, partition_key=version,
                              instance=instance, resources=resources,
                              run_config=_run_config()).success
        assert dg.materialize(sql_assets, instance=instance, resources=resources).success


def test_bank_beside_adult_from_drafted_contract(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch

    from pipelines.defs.analytics.assets import SQL_ROOT, sql_model_assets
    from pipelines.defs.evaluation.assets import utility_metrics
    from pipelines.defs.synthesis.assets import synthetic_table
    from pipelines.factories.sql_models import build_sql_model_assets
    from pipelines.resources.warehouse import Warehouse

    torch.set_num_threads(1)
    monkeypatch.setenv("DAGAN_VAR_DIR", str(tmp_path / "var"))
    for name in ("DAGAN_DATASET", "DAGAN_PARTY_CONTRACT"):
        monkeypatch.delenv(name, raising=False)
    landing, test_set = _bank_files(tmp_path / "bank_files")
    out = tmp_path / "bank"

    # 1. draft from one party's sample: what it infers, what to decide, what it reveals
    assert cli.main(["contract", "init", "--sample", str(landing / "bank_a"), "--label", "y",
                     "--out", str(out), "--landing", str(landing),
                     "--test-set", str(test_set)]) == 0
    printed = capsys.readouterr().out
    assert "label 'y'" in printed and "decide before use:" in printed
    assert "reveals facts about the rows" in printed
    suite = json.loads((out / "suites" / "bank.json").read_text())
    assert suite["meta"]["label"] == "y" and suite["meta"]["column_types"]["age"] == "int64"
    assert "y" in suite["meta"]["discrete_columns"]

    # 2. a party checks its files: bank_c holds values bank_a's sample never had
    code = cli.main(["contract", "check", "--contract", str(out), "--landing", str(landing),
                     "--party", "bank_c"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("party bank_c: ") and "part.csv" in err
    assert len(err.strip().splitlines()) == 1

    # 3. review: the reviewer opens the ranges and merges the category lists of all parties
    assert cli.main(["contract", "init", "--sample", str(landing), "--label", "y", "--out",
                     str(out), "--landing", str(landing), "--test-set", str(test_set),
                     "--force"]) == 0
    suite = json.loads((out / "suites" / "bank.json").read_text())
    for rule in suite["expectations"]:
        if rule["type"] == "expect_column_values_to_be_between":
            rule["kwargs"]["max_value"] = None
    (out / "suites" / "bank.json").write_text(json.dumps(suite, indent=2))
    assert cli.main(["contract", "check", "--contract", str(out), "--landing", str(landing),
                     "--party", "bank_c"]) == 0  # (ingest then validates every party)
    assert "party bank_c: all 50 rows meet the contract" in capsys.readouterr().out

    # 4. Adult (the default dataset), then Bank, into one warehouse
    adult_landing, adult_test = _adult_files(tmp_path / "adult_files")
    monkeypatch.setenv("DAGAN_LANDING_DIR", str(adult_landing))
    monkeypatch.setenv("DAGAN_TEST_SET", str(adult_test))
    _materialize(ADULT_PARTIES, "adult-v1", sql_model_assets)
    monkeypatch.delenv("DAGAN_LANDING_DIR")
    monkeypatch.delenv("DAGAN_TEST_SET")
    monkeypatch.setenv("DAGAN_DATASET", str(out / "dataset.yaml"))
    bank_sql = build_sql_model_assets(
        SQL_ROOT,
        {"synthetic_bank.rows": synthetic_table.key, "metrics_bank.*": utility_metrics.key},
        schemas={s: settings.warehouse_schema(s) for s in ("synthetic", "metrics", "marts")},
    )
    _materialize(BANK_PARTIES, "bank-v1", bank_sql)

    warehouse = Warehouse()
    bank_rows = warehouse.query("SELECT * FROM synthetic_bank.rows")
    adult_rows = warehouse.query("SELECT * FROM synthetic.rows")
    assert len(bank_rows) == 120 and set(bank_rows["party"]) == set(BANK_PARTIES)
    assert "y" in bank_rows and "income" not in bank_rows
    assert "income" in adult_rows and "y" not in adult_rows
    assert set(adult_rows["model_version"]) == {"adult-v1"}
    board = warehouse.query("SELECT model_version FROM marts_bank.utility_leaderboard")
    assert board["model_version"].tolist() == ["bank-v1"]
    assert warehouse.query("SELECT model_version FROM marts.utility_leaderboard")[
        "model_version"].tolist() == ["adult-v1"]
    classes = warehouse.query("SELECT DISTINCT label_value FROM marts_bank.class_balance")
    assert set(classes["label_value"]) <= {"yes", "no"}
    owners = warehouse.query("SELECT namespace, dataset FROM main.dagan_datasets ORDER BY 1")
    assert owners.values.tolist() == [["", "adult"], ["bank", "bank"]]
    # the parties' stores and checkpoints are the dataset's own
    assert (tmp_path / "var" / "datasets" / "bank" / "models" / "bank-v1").is_dir()
    assert (tmp_path / "var" / "parties" / "party_0").is_dir()
