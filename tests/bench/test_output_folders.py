"""Measurement tools never overwrite committed results and keep partial runs out of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import flops
from bench.options import REPO, partial_path, refuse_tracked, tracked_files


def test_a_run_into_a_folder_of_committed_results_is_refused_before_it_starts() -> None:
    results = REPO / "results"
    committed = tracked_files(results)
    assert "adult_K5_r20_b0.1_e30.json" in committed
    with pytest.raises(FileExistsError, match=r"adult_K5_r20_b0\.1_e30\.json"):
        refuse_tracked(results, ["adult_K5_r20_b0.1_e30.*"])
    refuse_tracked(results, ["a_name_nobody_committed.json"])  # new names are fine
    refuse_tracked(REPO / "results" / "tmp", ["*"])  # the default folder is never tracked


def test_flops_refuses_to_overwrite_committed_flops(tmp_path: Path) -> None:
    speed = REPO / "results" / "speed"
    if "flops.json" not in tracked_files(speed):
        pytest.skip("no committed flops.json")
    with pytest.raises(FileExistsError, match="flops.json"):
        flops.main(["--out", str(speed)])


def test_partial_results_go_to_the_ignored_tmp_folder() -> None:
    path = partial_path("adult_K5_r20_b0.1_e30")
    assert path.parent == REPO / "results" / "tmp" / "partial"
    assert path.name == "adult_K5_r20_b0.1_e30.partial.json"
