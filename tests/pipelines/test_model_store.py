"""Checkpoints keyed by model version, replaced only when a save succeeds."""

from pathlib import Path

import pytest

from pipelines.resources.model_store import ModelStore


def test_paths_are_keyed_by_version_and_names_are_checked(tmp_path: Path) -> None:
    store = ModelStore(root=str(tmp_path))
    assert store.path("weekly-2026-11-23") == tmp_path / "weekly-2026-11-23" / "checkpoint"
    for bad in ("", "../x", "a/b", ".hidden"):
        with pytest.raises(ValueError, match="not a valid key"):
            store.path(bad)


def test_a_failed_save_keeps_the_previous_checkpoint(tmp_path: Path) -> None:
    store = ModelStore(root=str(tmp_path))
    with store.writing("v1") as staging:
        (staging / "weights.pt").write_text("one")
    with pytest.raises(RuntimeError), store.writing("v1") as staging:
        (staging / "weights.pt").write_text("half")
        raise RuntimeError("disk full")
    assert (store.path("v1") / "weights.pt").read_text() == "one"
    with store.writing("v1") as staging:
        (staging / "weights.pt").write_text("two")
    assert (store.path("v1") / "weights.pt").read_text() == "two"
    assert sorted(p.name for p in (tmp_path / "v1").iterdir()) == ["checkpoint"]
    assert store.versions() == ["v1"]


def test_sidecars_round_trip_and_missing_ones_name_the_version(tmp_path: Path) -> None:
    store = ModelStore(root=str(tmp_path))
    store.write_json("v1", "training_summary", {"label": "y"})
    assert store.read_json("v1", "training_summary") == {"label": "y"}
    with pytest.raises(FileNotFoundError, match="'v2'"):
        store.read_json("v2", "training_summary")
