"""End to end on tiny data: landing files → … → synthetic rows and metrics → SQL marts.

Three parties of the committed demo data (a few hundred rows), two model versions with 2 epochs of
tiny networks, a temporary warehouse, and an analyst's read session held open in another process.
"""

import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from pipelines import settings
from pipelines.defs.analytics.assets import sql_model_assets
from pipelines.defs.evaluation.assets import utility_metrics
from pipelines.defs.ingest import raw_party_table, validated_party_table
from pipelines.defs.summaries import global_encoder, party_summary
from pipelines.defs.synthesis.assets import synthetic_table
from pipelines.defs.training.assets import dagan_model
from pipelines.resources.landing import LandingArea
from pipelines.resources.model_store import ModelStore
from pipelines.resources.party_store import PartyStore
from pipelines.resources.warehouse import Warehouse
from tests.pipelines.party_fixtures import direct_encoding, summary_run_config
from tests.pipelines.warehouse_writes import table_exists

DEMO = settings.REPO_ROOT / "demo"
PARTY_ROWS = {"party_0": 160, "party_1": 90, "party_2": 50}  # party_2 holds only ">50K"
INGEST = [raw_party_table, validated_party_table, party_summary]
MODEL = [party_summary, global_encoder, dagan_model, synthetic_table, utility_metrics]
MODEL_STEPS = ["global_encoder", "dagan_model", "synthetic_table", "utility_metrics"]
TINY = {
    "epochs": 2,
    "batch_size": 60,
    "embedding_dim": 8,
    "generator_dims": [16],
    "critic_dims": [16],
    "pac": 2,
    "device": "cpu",
}

pytestmark = pytest.mark.skipif(not (DEMO / "landing").is_dir(), reason="demo data missing")

_READER = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    q = "SELECT count(DISTINCT model_version) FROM synthetic.rows"
    print(con.execute(q).fetchone()[0], flush=True)
    sys.stdin.readline()
    print(con.execute(q).fetchone()[0], flush=True)
    """
)


@pytest.fixture
def setup(tmp_path: Path) -> dict:
    import torch

    torch.set_num_threads(1)
    landing = tmp_path / "landing"
    for party, n in PARTY_ROWS.items():
        source = next((DEMO / "landing" / party).glob("*.csv"))
        (landing / party).mkdir(parents=True)
        pd.read_csv(source, nrows=n).to_csv(landing / party / f"{party}.csv", index=False)
    test_set = tmp_path / "test.csv"
    pd.read_csv(DEMO / "reference" / "adult_test.csv", nrows=300).to_csv(test_set, index=False)
    return {
        "test_set": str(test_set),
        "resources": {
            "landing": LandingArea(root=str(landing)),
            "party_store": PartyStore(root=str(tmp_path / "parties")),
            "warehouse": Warehouse(path=str(tmp_path / "wh" / "dagan_warehouse.duckdb")),
            "model_store": ModelStore(root=str(tmp_path / "models")),
            "io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path / "io")),
        },
    }


def _run_config(strategy: str, test_set: str) -> dg.RunConfig:
    return dg.RunConfig(
        ops={
            "dagan_model": {"config": {"strategy": strategy, **TINY}},
            "synthetic_table": {"config": {"rows": 200, "seed": 1}},
            "utility_metrics": {
                "config": {"models": ["lr", "dt"], "max_rows": 300, "test_set_path": test_set}
            },
        }
    )


def test_whole_graph_two_versions_and_an_open_reader(setup: dict) -> None:
    resources, warehouse = setup["resources"], setup["resources"]["warehouse"]
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("parties", list(PARTY_ROWS))
        instance.add_dynamic_partitions("model_versions", ["v1", "v2"])
        for party in PARTY_ROWS:
            result = dg.materialize(
                INGEST, partition_key=party, instance=instance, resources=resources,
                run_config=summary_run_config(),
            )
            assert result.success
        first = dg.materialize(
            MODEL,
            selection=MODEL_STEPS,
            partition_key="v1",
            instance=instance,
            resources=resources,
            run_config=_run_config("dagan", setup["test_set"]),
        )
        assert first.success
        v1_rows = warehouse.read_partition("rows", "model_version", "v1", schema="synthetic")
        assert len(v1_rows) == 200
        assert set(v1_rows["party"]) == set(PARTY_ROWS)

        model_meta = first.asset_materializations_for_node("dagan_model")[0].metadata
        assert model_meta["loss_curves"].value.startswith("![loss curves](data:image/png;base64,")
        assert model_meta["config"].value["strategy"] == "dagan"
        assert model_meta["history_summary"].value["epochs"] == 2
        synth_meta = first.asset_materializations_for_node("synthetic_table")[0].metadata
        assert "party_2" in synth_meta["class_mix"].value

        reader = subprocess.Popen(
            [sys.executable, "-c", _READER, str(warehouse.file)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert reader.stdout.readline().strip() == "1"
            second = dg.materialize(
                MODEL,
                selection=MODEL_STEPS,
                partition_key="v2",
                instance=instance,
                resources=resources,
                run_config=_run_config("fedsyn", setup["test_set"]),
            )
            assert second.success
            reader.stdin.write("\n")
            reader.stdin.flush()
            out, err = reader.communicate(timeout=60)
        finally:
            if reader.poll() is None:
                reader.kill()
        assert reader.returncode == 0, err
        assert out.split() == ["1"]  # the open session kept its snapshot and still queries

        # re-materializing v1's rows replaces exactly them; v2 keeps its own
        assert dg.materialize(
            MODEL,
            selection=[synthetic_table],
            partition_key="v1",
            instance=instance,
            resources=resources,
            run_config=dg.RunConfig(ops={"synthetic_table": {"config": {"rows": 200, "seed": 1}}}),
        ).success
        counts = warehouse.query(
            "SELECT model_version, count(*) AS n FROM synthetic.rows GROUP BY 1 ORDER BY 1"
        )
        assert counts.values.tolist() == [["v1", 200], ["v2", 200]]
        assert (
            warehouse.read_partition("rows", "model_version", "v1", schema="synthetic")
            .drop(columns="model_version")
            .equals(v1_rows.drop(columns="model_version"))
        )

        analytics = dg.materialize(sql_model_assets, instance=instance, resources=resources)
        assert analytics.success

    board = warehouse.query("SELECT model_version, strategy FROM marts.utility_leaderboard")
    assert sorted(board.values.tolist()) == [["v1", "dagan"], ["v2", "fedsyn"]]
    balance = warehouse.query(
        "SELECT party, label_value, real_n FROM marts.class_balance "
        "WHERE model_version = 'v1' AND party = 'party_2' AND real_n > 0"
    )
    assert balance.values.tolist() == [["party_2", ">50K", 50]]
    for table in ("utility", "similarity", "privacy", "column_fidelity"):
        versions = warehouse.query(f"SELECT DISTINCT model_version FROM metrics.{table}")
        assert sorted(versions["model_version"]) == ["v1", "v2"], table
    store = resources["model_store"]
    assert store.versions() == ["v1", "v2"]


def _two_small_parties(tmp_path: Path) -> tuple[PartyStore, ModelStore]:
    """A party store with the first 80 / 40 demo rows of party_0 / party_1, an empty model store."""
    store = PartyStore(root=str(tmp_path / "parties"))
    for party, n in (("party_0", 80), ("party_1", 40)):
        source = next((DEMO / "landing" / party).glob("*.csv"))
        store.write_validated(party, pd.read_csv(source, nrows=n))
    return store, ModelStore(root=str(tmp_path / "models"))


def test_model_assets_by_direct_invocation(tmp_path: Path) -> None:
    import torch

    from pipelines.defs.synthesis.config import SynthesisConfig
    from pipelines.defs.training.config import TrainingConfig

    torch.set_num_threads(1)
    store, models = _two_small_parties(tmp_path)
    warehouse = Warehouse(path=str(tmp_path / "wh.duckdb"))

    trained = dagan_model(
        context=dg.build_asset_context(partition_key="direct"),
        config=TrainingConfig(**{**TINY, "epochs": 1, "pac": None}),
        global_encoder=direct_encoding(store, ["party_0", "party_1"]),
        party_store=store,
        model_store=models,
    )
    assert trained.value == str(models.path("direct"))
    # the automatic pack size is recorded as resolved: '>50K' is far above 2 % of the rows
    assert models.read_json("direct", "training_summary")["config"]["model"]["pac"] == 10
    assert trained.metadata["party_rows"].value == {"party_0": 80, "party_1": 40}
    assert models.read_json("direct", "training_summary")["label"] == "income"

    sampled = synthetic_table(
        context=dg.build_asset_context(partition_key="direct"),
        config=SynthesisConfig(),
        model_store=models,
        warehouse=warehouse,
    )
    assert sampled.value == {"model_version": "direct", "rows": 120}
    assert sampled.metadata["rows_per_party"].value == {"party_0": 80, "party_1": 40}
    # staged for the evaluation, which publishes them with the version's metrics
    assert len(warehouse.staged_partition("rows", "direct", "synthetic").frame) == 120
    assert not table_exists(warehouse, "rows", "synthetic")


def test_model_asset_reports_dp_epsilon(tmp_path: Path) -> None:
    import torch

    from pipelines.defs.training.config import TrainingConfig

    torch.set_num_threads(1)
    store, models = _two_small_parties(tmp_path)
    trained = dagan_model(
        context=dg.build_asset_context(partition_key="dp"),
        config=TrainingConfig(**{**TINY, "epochs": 2}, dp_noise_multiplier=1.0),
        global_encoder=direct_encoding(store, ["party_0", "party_1"]),
        party_store=store,
        model_store=models,
    )
    meta = trained.metadata
    spent = meta["dp_epsilon"].value
    assert set(spent) == {"party_0", "party_1"} and all(0 < e < float("inf")
                                                        for e in spent.values())
    assert meta["dp_delta"].value == {"party_0": 1 / 80, "party_1": 1 / 40}
    assert meta["dp_noise_multiplier"].value == 1.0
    table = meta["dp_epsilon_by_epoch"].value
    assert "epoch" in table and "party_0" in table and len(table.splitlines()) == 4  # 2 epochs
    assert meta["history_summary"].value["final_dp_epsilon"] == spent
    assert models.read_json("dp", "training_summary")["config"]["privacy"][
        "dp_noise_multiplier"] == 1.0


def test_model_asset_says_why_training_stopped(tmp_path: Path) -> None:
    import torch

    from pipelines.defs.training.config import TrainingConfig

    torch.set_num_threads(1)
    store, models = _two_small_parties(tmp_path)
    trained = dagan_model(
        context=dg.build_asset_context(partition_key="budget"),
        config=TrainingConfig(**{**TINY, "epochs": 30}, max_steps=4, patience=3),
        global_encoder=direct_encoding(store, ["party_0", "party_1"]),
        party_store=store,
        model_store=models,
    )
    meta = trained.metadata
    assert meta["stop_reason"].value == "the budget of 4 steps was spent"
    assert meta["epochs_run"].value == 2  # 120 rows at batch 60: two steps an epoch
    assert 1 <= meta["kept_epoch"].value <= 2
    assert len(meta["fit_score_by_epoch"].value.splitlines()) == 4  # header, rule, 2 epochs
    assert "heldout_f1[party_0]" in meta["fit_score_by_epoch"].value
    assert "held-out F1" in meta["fit_score"].value
    saved = models.read_json("budget", "training_summary")["stopping"]
    assert saved["reason"] == "max_steps" and saved["kept_epoch"] + 1 == meta["kept_epoch"].value
