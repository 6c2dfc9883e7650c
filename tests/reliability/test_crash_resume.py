"""Crash and resume: a training killed with SIGKILL resumes to the uninterrupted result, and no
writer killed mid-write (epoch checkpoint, model checkpoint, warehouse) leaves a half-written file
where readers look."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
import torch

from dagan_core import load_synthesizer
from dagan_core.synthesizers.checkpoint import load_training_state, save_training_state
from pipelines.defs.summaries import global_encoder, party_summary
from pipelines.defs.training.assets import dagan_model
from pipelines.defs.training.resume import KEY_FILE, ResumableTraining
from pipelines.resources.model_store import ModelStore
from pipelines.resources.party_store import PartyStore
from pipelines.resources.warehouse import Warehouse
from tests.pipelines.party_fixtures import adult_slice, needs_adult, summarize_parties
from tests.pipelines.warehouse_writes import replace_partition

pytestmark = needs_adult

REPO = Path(__file__).resolve().parents[2]
EPOCHS = 8
CONFIG = {"epochs": EPOCHS, "batch_size": 30, "generator_dims": [16], "critic_dims": [16],
          "embedding_dim": 8, "pac": 2, "device": "cpu", "seed": 0}

_TRAIN = textwrap.dedent(
    """
    import json, sys
    import torch
    torch.set_num_threads(1)
    import dagster as dg
    from tests.reliability.test_crash_resume import train_v1

    train_v1(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))
    """
)


def _start(code: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, err[-3000:]
    return err


def _wait_for_line(proc: subprocess.Popen, expected: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    line = proc.stdout.readline()
    while line.strip() != expected:
        if not line and proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"never saw {expected!r}: {proc.stderr.read()[-3000:]}")
        line = proc.stdout.readline()


def train_v1(parties: str, models: str, config: dict) -> dg.ExecuteInProcessResult:
    """Summaries of every stored party, then version v1's encoder and model."""
    store = PartyStore(root=parties)
    resources = {"party_store": store, "model_store": ModelStore(root=models)}
    with dg.DagsterInstance.ephemeral() as instance:
        summarize_parties(instance, resources, store.parties())
        instance.add_dynamic_partitions("model_versions", ["v1"])
        return dg.materialize(
            [party_summary, global_encoder, dagan_model], selection=[global_encoder, dagan_model],
            partition_key="v1", instance=instance, resources=resources,
            run_config=dg.RunConfig(ops={"dagan_model": {"config": config}}),
        )


def _materialize(parties: Path, models: Path) -> dg.ExecuteInProcessResult:
    return train_v1(str(parties), str(models), CONFIG)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Party stores and one uninterrupted training of version v1 (the reference)."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("crash")
    store = PartyStore(root=str(root / "parties"))
    for party, (start, stop) in {"a": (0, 300), "b": (300, 500), "c": (500, 600)}.items():
        store.write_validated(party, adult_slice(start, stop))
    reference = _materialize(root / "parties", root / "models_reference")
    assert reference.success
    return root


def test_killed_training_resumes_to_the_uninterrupted_result(trained):
    root = trained
    models = root / "models_crashed"
    state = models / "v1" / "training_state"
    proc = _start(_TRAIN, str(root / "parties"), str(models), json.dumps(CONFIG))
    deadline = time.monotonic() + 180
    while not (state / "progress.json").exists():
        assert proc.poll() is None, proc.stderr.read()[-3000:]
        assert time.monotonic() < deadline, "no epoch checkpoint appeared"
        time.sleep(0.01)
    _kill(proc)

    # killed mid-training: no model was published; the epoch checkpoint is whole
    assert not ModelStore(root=str(models)).exists("v1")
    epoch, _, history = load_training_state(models / "v1", torch.device("cpu"))
    assert 0 <= epoch < EPOCHS - 1 and len(history) == epoch + 1

    resumed = _materialize(root / "parties", models)

    assert resumed.success
    meta = resumed.asset_materializations_for_node("dagan_model")[0].metadata
    assert meta["resumed_from_epoch"].value == epoch + 1 >= 1
    assert not state.exists() and not (models / "v1" / KEY_FILE).exists()  # removed when done
    assert sorted(p.name for p in (models / "v1").iterdir()) == ["checkpoint",
                                                                 "training_summary.json"]
    reference = root / "models_reference" / "v1" / "checkpoint"
    again = models / "v1" / "checkpoint"
    a = torch.load(reference / "generators.pt", weights_only=True)["generators"]
    b = torch.load(again / "generators.pt", weights_only=True)["generators"]
    for (name, x), y in zip(a[0].items(), b[0].values(), strict=True):
        assert torch.equal(x, y), name
    pd.testing.assert_frame_equal(load_synthesizer(reference).sample(300, seed=5),
                                  load_synthesizer(again).sample(300, seed=5))
    history = json.loads((again / "history.json").read_text())
    reference_history = json.loads((reference / "history.json").read_text())
    assert [h["epoch"] for h in history] == list(range(EPOCHS))
    assert [h["generator_loss"] for h in history] == [
        h["generator_loss"] for h in reference_history
    ]


def test_a_state_of_other_settings_or_data_is_not_resumed(tmp_path):
    store = ModelStore(root=str(tmp_path))
    first = ResumableTraining.open(store, "v1", "fingerprint-a")
    save_training_state(first.checkpoint_dir, 2, {"w": torch.zeros(2)}, [{}, {}, {}])
    (store.version_dir("v1") / ".checkpoint-left-by-a-killed-writer").mkdir()

    assert ResumableTraining.open(store, "v1", "fingerprint-a").resumed_after_epoch == 2
    assert not (store.version_dir("v1") / ".checkpoint-left-by-a-killed-writer").exists()
    other = ResumableTraining.open(store, "v1", "fingerprint-b")
    assert other.resumed_after_epoch is None and not other.state_dir.exists()
    assert ResumableTraining.open(store, "v1", "fingerprint-a").resumed_after_epoch is None


# --- writers killed in the middle of a write --------------------------------------------------

_KILLED_EPOCH_SAVE = textwrap.dedent(
    """
    import sys, time
    import torch
    import dagan_core.synthesizers.checkpoint as ck
    real_dump = ck._dump
    def slow_dump(obj, path):  # state.pt is written; progress.json is half written, then we hang
        if path.name == "progress.json":
            path.write_text('{"epoch": 1, "hist')
            print("inside", flush=True)
            time.sleep(600)
        real_dump(obj, path)
    ck._dump = slow_dump
    ck.save_training_state(sys.argv[1], 1, {"w": torch.ones(3)}, [{"epoch": 0}, {"epoch": 1}])
    """
)


def test_killed_epoch_checkpoint_save_leaves_the_previous_one(tmp_path):
    folder = tmp_path / "v1"
    save_training_state(folder, 0, {"w": torch.zeros(3)}, [{"epoch": 0}])
    before = (folder / "training_state" / "state.pt").read_bytes()

    proc = _start(_KILLED_EPOCH_SAVE, str(folder))
    _wait_for_line(proc, "inside")
    _kill(proc)

    epoch, state, history = load_training_state(folder, torch.device("cpu"))
    assert (epoch, history) == (0, [{"epoch": 0}]) and torch.equal(state["w"], torch.zeros(3))
    assert (folder / "training_state" / "state.pt").read_bytes() == before
    leftovers = [p.name for p in folder.iterdir() if p.name != "training_state"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".training_state.")  # hidden
    assert ModelStore(root=str(tmp_path)).remove_stale_staging("v1") == leftovers
    save_training_state(folder, 1, {"w": torch.ones(3)}, [{"epoch": 0}, {"epoch": 1}])
    assert load_training_state(folder, torch.device("cpu"))[0] == 1


def test_a_replacement_cut_between_its_two_renames_is_restored(tmp_path):
    save_training_state(tmp_path, 4, {"w": torch.ones(1)}, [{}] * 5)
    # the state as a kill between "current -> .old" and "new -> current" leaves it
    os.replace(tmp_path / "training_state", tmp_path / ".training_state.old")

    assert load_training_state(tmp_path, torch.device("cpu"))[0] == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["training_state"]


_KILLED_MODEL_SAVE = textwrap.dedent(
    """
    import shutil, sys, time
    from pathlib import Path
    from pipelines.resources.model_store import ModelStore
    store = ModelStore(root=sys.argv[1])
    with store.writing("v1") as staging:
        shutil.copy(Path(sys.argv[2]) / "config.json", staging / "config.json")
        (staging / "generators.pt").write_bytes(b"half of a weights file")
        print("inside", flush=True)
        time.sleep(600)
    """
)


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_killed_model_save_leaves_the_published_checkpoint(trained, tmp_path):
    published = trained / "models_reference" / "v1" / "checkpoint"
    store = ModelStore(root=str(tmp_path))
    shutil.copytree(published, store.path("v1"))
    before = _digest(store.path("v1"))

    proc = _start(_KILLED_MODEL_SAVE, str(tmp_path), str(published))
    _wait_for_line(proc, "inside")
    _kill(proc)

    assert _digest(store.path("v1")) == before
    assert store.versions() == ["v1"]
    load_synthesizer(store.path("v1")).sample(20, seed=0)  # still loads and samples
    stale = store.remove_stale_staging("v1")
    assert len(stale) == 1 and stale[0].startswith(".checkpoint-")


_KILLED_WAREHOUSE_WRITE = textwrap.dedent(
    """
    import sys, time
    import pandas as pd
    from pipelines.resources.warehouse import Warehouse
    from tests.pipelines.warehouse_writes import write_table
    with Warehouse(path=sys.argv[1]).write_cycle() as w:
        w.con.execute("DELETE FROM synthetic.rows")
        write_table(w, "rows", pd.DataFrame({"model_version": ["v9"] * 5000, "x": range(5000)}),
                    schema="synthetic")
        print("inside", flush=True)
        time.sleep(600)
    """
)


def test_killed_warehouse_writer_leaves_the_published_file_readable_and_unchanged(tmp_path):
    warehouse = Warehouse(path=str(tmp_path / "wh.duckdb"), lock_timeout_s=30)
    rows = pd.DataFrame({"model_version": ["v1"] * 3, "x": [1, 2, 3]})
    replace_partition(warehouse, "rows", rows, "model_version", "v1", schema="synthetic")
    before = hashlib.sha256(warehouse.file.read_bytes()).hexdigest()

    proc = _start(_KILLED_WAREHOUSE_WRITE, str(warehouse.file))
    _wait_for_line(proc, "inside")
    copies = tmp_path / "wh.duckdb.d"
    assert list(copies.glob("*.writing-*"))  # the writer's private copy exists
    _kill(proc)

    assert hashlib.sha256(warehouse.file.read_bytes()).hexdigest() == before
    got = warehouse.query("SELECT model_version, sum(x) AS s FROM synthetic.rows GROUP BY 1")
    assert got.values.tolist() == [["v1", 6]]
    # the dead writer's lock died with it; the next writer publishes and sweeps its copy
    started = time.monotonic()
    more = pd.DataFrame({"model_version": ["v2"], "x": [10]})
    replace_partition(warehouse, "rows", more, "model_version", "v2", schema="synthetic")
    assert time.monotonic() - started < 10
    assert not list(copies.glob("*.writing-*")) and not list(tmp_path.glob("*.writing-*"))
    assert warehouse.query("SELECT count(*) AS n FROM synthetic.rows")["n"].iloc[0] == 4
