"""Concurrency: an analyst holds a read-only session on the warehouse while two processes
materialize and publish different model versions (synthetic rows, then the evaluation that
publishes them with the version's metrics) at the same time.

Every process succeeds, nobody sees a lock error, and every snapshot a reader opens holds, for each
model version, either all of its old rows or all of its new rows, never a mix.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg

from pipelines.defs.evaluation.assets import utility_metrics
from pipelines.defs.synthesis.assets import synthetic_table
from pipelines.defs.training.assets import dagan_model
from pipelines.defs.training.config import TrainingConfig
from pipelines.resources.model_store import ModelStore
from pipelines.resources.party_store import PartyStore
from pipelines.resources.warehouse import Warehouse
from tests.pipelines.party_fixtures import adult_slice, direct_encoding, needs_adult

pytestmark = needs_adult

REPO = Path(__file__).resolve().parents[2]
ROWS = 400
SIGNATURE = (
    "SELECT model_version, count(*) AS n, bit_xor(hash(r)) AS h FROM synthetic.rows r "
    "GROUP BY 1 ORDER BY 1"
)

_ANALYST = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    import duckdb
    path, stop, sql = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    held = duckdb.connect(path, read_only=True)  # the analyst's session, open all along
    first = held.execute(sql).fetchall()
    print("ready", flush=True)
    seen = []
    while not stop.exists():
        fresh = duckdb.connect(":memory:")  # a new session sees the current snapshot
        fresh.execute(f"ATTACH '{path}' AS wh (READ_ONLY)")
        fresh.execute("USE wh")
        seen.append(fresh.execute(sql).fetchall())
        fresh.close()
        time.sleep(0.02)
    last = held.execute(sql).fetchall()
    print(json.dumps({"first": first, "last": last, "seen": seen}), flush=True)
    """
)

_PUBLISH = textwrap.dedent(
    """
    import sys
    import torch
    torch.set_num_threads(1)
    import dagster as dg
    from pipelines.defs.evaluation.assets import utility_metrics
    from pipelines.defs.synthesis.assets import synthetic_table
    from pipelines.resources.model_store import ModelStore
    from pipelines.resources.party_store import PartyStore
    from pipelines.resources.warehouse import Warehouse
    models, warehouse, version, seed, rows, parties, test_set = sys.argv[1:8]
    print("ready", flush=True)
    sys.stdin.readline()  # start together with the other materialization
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("model_versions", [version])
        result = dg.materialize(
            [synthetic_table, utility_metrics], partition_key=version, instance=instance,
            resources={"model_store": ModelStore(root=models),
                       "party_store": PartyStore(root=parties),
                       "warehouse": Warehouse(path=warehouse)},
            run_config=dg.RunConfig(ops={
                "synthetic_table": {"config": {"rows": int(rows), "seed": int(seed)}},
                "utility_metrics": {"config": {"models": ["lr"], "test_set_path": test_set}}}),
        )
    sys.exit(0 if result.success else 1)
    """
)


def _start(code: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=REPO, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _materialize_here(models: ModelStore, warehouse: Warehouse, version: str, seed: int) -> bool:
    parties = PartyStore(root=str(models.root_dir.parent / "parties"))
    test_set = models.root_dir.parent / "test_set.csv"
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("model_versions", [version])
        return dg.materialize(
            [synthetic_table, utility_metrics], partition_key=version, instance=instance,
            resources={"model_store": models, "party_store": parties, "warehouse": warehouse},
            run_config=dg.RunConfig(ops={
                "synthetic_table": {"config": {"rows": ROWS, "seed": seed}},
                "utility_metrics": {"config": {"models": ["lr"],
                                               "test_set_path": str(test_set)}}}),
        ).success


def _signatures(rows: list) -> dict[str, tuple[int, int]]:
    return {version: (n, h) for version, n, h in rows}


def _two_versions(tmp_path) -> tuple[ModelStore, Warehouse]:
    """Versions v1 and v2 trained (one tiny model, copied), v1's rows already published."""
    import torch

    torch.set_num_threads(1)
    parties = PartyStore(root=str(tmp_path / "parties"))
    parties.write_validated("p0", adult_slice(0, 150))
    parties.write_validated("p1", adult_slice(150, 250))
    models = ModelStore(root=str(tmp_path / "models"))
    dagan_model(
        context=dg.build_asset_context(partition_key="v1"),
        config=TrainingConfig(epochs=1, batch_size=50, generator_dims=[16], critic_dims=[16],
                              embedding_dim=8, pac=2, device="cpu"),
        global_encoder=direct_encoding(parties, ["p0", "p1"]),
        party_store=parties, model_store=models,
    )
    shutil.copytree(models.version_dir("v1"), models.version_dir("v2"))
    adult_slice(1000, 1300).to_csv(tmp_path / "test_set.csv", index=False)
    warehouse = Warehouse(path=str(tmp_path / "wh" / "dagan_warehouse.duckdb"))
    assert _materialize_here(models, warehouse, "v1", seed=1)
    return models, warehouse


def test_reader_and_two_parallel_materializations(tmp_path):
    models = ModelStore(root=str(tmp_path / "models"))
    warehouse = Warehouse(path=str(tmp_path / "wh" / "dagan_warehouse.duckdb"))
    # the other process imports while this one trains; both materialize once it is ready
    other = _start(_PUBLISH, str(models.root_dir), str(warehouse.file), "v2", "1", str(ROWS),
                   str(tmp_path / "parties"), str(tmp_path / "test_set.csv"))
    stop = tmp_path / "stop"
    analyst = None
    try:
        assert _two_versions(tmp_path) == (models, warehouse)
        old = _signatures(warehouse.query(SIGNATURE).values.tolist())
        assert list(old) == ["v1"] and old["v1"][0] == ROWS
        analyst = _start(_ANALYST, str(warehouse.file), str(stop), SIGNATURE)
        assert analyst.stdout.readline().strip() == "ready"
        assert other.stdout.readline().strip() == "ready", other.stderr.read()[-3000:]
        other.stdin.write("go\n")
        other.stdin.flush()
        # this process is the second materialization: v1's rows are replaced meanwhile
        assert _materialize_here(models, warehouse, "v1", seed=2)
        _, other_err = other.communicate(timeout=300)
        stop.touch()
        out, err = analyst.communicate(timeout=60)
    finally:
        for proc in (analyst, other):
            if proc is not None and proc.poll() is None:
                proc.kill()

    assert other.returncode == 0, other_err[-3000:]
    assert "lock" not in other_err.lower()
    assert analyst.returncode == 0, err[-3000:]
    report = json.loads(out.strip().splitlines()[-1])

    new = _signatures(warehouse.query(SIGNATURE).values.tolist())
    assert set(new) == {"v1", "v2"} and new["v1"] != old["v1"]
    assert all(n == ROWS for n, _ in new.values())
    # the held session kept its snapshot from before both materializations, start to end
    assert _signatures(report["first"]) == _signatures(report["last"]) == old
    # every fresh snapshot: each version wholly old or wholly new, never a mix
    assert report["seen"], "the analyst never queried while the writers ran"
    for snapshot in map(_signatures, report["seen"]):
        assert tuple(snapshot["v1"]) in {old["v1"], new["v1"]}
        assert "v2" not in snapshot or tuple(snapshot["v2"]) == new["v2"]
    assert not list(warehouse.file.parent.glob("**/*.writing-*"))
