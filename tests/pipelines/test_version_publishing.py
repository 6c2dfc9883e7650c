"""A model version's synthetic rows, metrics and SQL models appear in the warehouse together or
not at all, and a table never takes rows of another schema: through the real synthesis and
evaluation assets, a tiny trained model and a real DuckDB warehouse."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from pipelines.defs.evaluation.assets import utility_metrics
from pipelines.defs.synthesis.assets import synthetic_table
from pipelines.defs.training.assets import dagan_model
from pipelines.defs.training.config import TrainingConfig
from pipelines.resources.model_store import ModelStore
from pipelines.resources.party_store import PartyStore
from pipelines.resources.warehouse import Warehouse
from pipelines.resources.warehouse_files import Layout
from tests.pipelines.party_fixtures import adult_slice, direct_encoding, needs_adult
from tests.pipelines.warehouse_writes import replace_partition

pytestmark = needs_adult

TINY = {"epochs": 1, "batch_size": 50, "generator_dims": [16], "critic_dims": [16],
        "embedding_dim": 8, "pac": 2, "device": "cpu"}
ASSETS = [synthetic_table, utility_metrics]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[PartyStore, ModelStore, Path]:
    """Two parties, model versions v1 and v2 (one tiny model), a good and a bad test set."""
    import torch

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("versions")
    parties = PartyStore(root=str(root / "parties"))
    parties.write_validated("p0", adult_slice(0, 150))
    parties.write_validated("p1", adult_slice(150, 250))
    models = ModelStore(root=str(root / "models"))
    dagan_model(context=dg.build_asset_context(partition_key="v1"), config=TrainingConfig(**TINY),
                global_encoder=direct_encoding(parties, ["p0", "p1"]),
                party_store=parties, model_store=models)
    shutil.copytree(models.version_dir("v1"), models.version_dir("v2"))
    adult_slice(1000, 1300).to_csv(root / "test_set.csv", index=False)
    adult_slice(1000, 1300).drop(columns=["age", "income"]).to_csv(root / "bad.csv", index=False)
    return parties, models, root


def _run(trained, warehouse: Warehouse, version: str, test_set: str,
         selection=None) -> dg.ExecuteInProcessResult:
    parties, models, root = trained
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("model_versions", [version])
        return dg.materialize(
            ASSETS, selection=selection, partition_key=version, instance=instance,
            raise_on_error=False,
            resources={"model_store": models, "party_store": parties, "warehouse": warehouse},
            run_config=dg.RunConfig(ops={name: config for name, config in {
                "synthetic_table": {"config": {"rows": 120, "seed": 1}},
                "utility_metrics": {"config": {"models": ["lr"],
                                               "test_set_path": str(root / test_set)}},
            }.items() if selection is None or name in {a.key.path[-1] for a in selection}}),
        )


def _versions(warehouse: Warehouse) -> dict[str, list[str]]:
    tables = ["synthetic.rows", "metrics.utility", "metrics.privacy", "marts.party_sizes",
              "marts.utility_leaderboard"]
    out = {}
    for table in tables:
        schema, name = table.split(".")
        exists = warehouse.query("SELECT count(*) AS n FROM duckdb_tables() WHERE schema_name = ? "
                                 "AND table_name = ?", [schema, name])["n"].iloc[0]
        out[table] = sorted(warehouse.query(f"SELECT DISTINCT model_version FROM {table}")
                            ["model_version"]) if exists else []
    return out


def _failure(result: dg.ExecuteInProcessResult) -> str:
    event = next(e for e in result.all_events if e.is_step_failure)
    return event.step_failure_data.error.cause.message


def test_failed_evaluation_leaves_no_partial_version(trained, tmp_path: Path) -> None:
    warehouse = Warehouse(path=str(tmp_path / "wh" / "dagan_warehouse.duckdb"))
    assert _run(trained, warehouse, "v1", "test_set.csv").success
    # rows, metrics and SQL models of v1 came in one publish: one generation, all of them
    assert [p.name for p in Layout(warehouse.file).generations()] == [
        "dagan_warehouse.g000001.duckdb"]
    published = _versions(warehouse)
    assert all(versions == ["v1"] for versions in published.values()), published
    before = warehouse.file.read_bytes()

    failed = _run(trained, warehouse, "v2", "bad.csv")
    assert not failed.success
    assert "the test set lacks the training columns ['age', 'income']" in _failure(failed)
    assert warehouse.file.read_bytes() == before  # nothing of v2 anywhere
    assert _versions(warehouse) == published
    assert warehouse.staged_partition("rows", "v2", "synthetic") is not None  # kept for a rerun

    # the rerun publishes v2 whole, from the staged rows
    assert _run(trained, warehouse, "v2", "test_set.csv", selection=[utility_metrics]).success
    assert all(v == ["v1", "v2"] for v in _versions(warehouse).values())
    assert warehouse.staged_partition("rows", "v2", "synthetic") is None


def _other_dataset(version: str) -> pd.DataFrame:
    return pd.DataFrame({"age": [41], "job": ["admin."], "balance": [1200], "y": ["no"],
                         "party": ["bank_0"], "model_version": [version]})


def test_rows_of_another_schema_are_refused_naming_the_columns(trained, tmp_path: Path) -> None:
    warehouse = Warehouse(path=str(tmp_path / "wh" / "dagan_warehouse.duckdb"))
    replace_partition(warehouse, "rows", _other_dataset("bank-v1"), "model_version", "bank-v1",
                      schema="synthetic")
    before = warehouse.file.read_bytes()

    refused = _run(trained, warehouse, "v1", "test_set.csv")
    assert not refused.success
    message = _failure(refused)
    assert message.startswith(
        "pipelines.resources.warehouse_writer.SchemaMismatchError: synthetic.rows: the rows of "
        "model_version 'v1' do not have the table's columns: missing ['job', 'balance', 'y'], "
        "not in the table ['workclass', 'fnlwgt', 'education'"
    )
    assert warehouse.file.read_bytes() == before  # never widened with NULL padding
    assert _versions(warehouse)["synthetic.rows"] == ["bank-v1"]
    assert warehouse.staged_partition("rows", "v1", "synthetic") is None


def test_schema_mismatch_at_publishing_leaves_no_partial_version(trained, tmp_path: Path) -> None:
    warehouse = Warehouse(path=str(tmp_path / "wh" / "dagan_warehouse.duckdb"))
    assert _run(trained, warehouse, "v1", "test_set.csv", selection=[synthetic_table]).success
    assert not warehouse.file.exists()  # staged only: readers see nothing of v1 yet
    # meanwhile another dataset's rows were published into the same table
    replace_partition(warehouse, "rows", _other_dataset("bank-v1"), "model_version", "bank-v1",
                      schema="synthetic")
    before = warehouse.file.read_bytes()

    refused = _run(trained, warehouse, "v1", "test_set.csv", selection=[utility_metrics])
    assert not refused.success
    assert "SchemaMismatchError: synthetic.rows: the rows of model_version 'v1'" in _failure(
        refused)
    assert warehouse.file.read_bytes() == before
    assert _versions(warehouse) == {"synthetic.rows": ["bank-v1"], "metrics.utility": [],
                                    "metrics.privacy": [], "marts.party_sizes": [],
                                    "marts.utility_leaderboard": []}
