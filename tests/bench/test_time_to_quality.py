"""Time to quality from a synthetic benchmark JSON: old and new curve points, the equal-time
table, the seconds to reach the real rows' score, and the command's files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import time_to_quality as ttq

META = {"dataset": "adult", "parties": 5, "size_ratio": 20.0, "beta": 0.1, "ir_cap": None,
        "epochs": 6, "max_rows": 3000, "seeds": [0, 1], "date": "2026-12-04", "cores": 2,
        "device": "cpu", "command": "python scripts/benchmark.py x", "wall_seconds": 1.0,
        "curve_every": 2}
RESULTS = [
    {"variant": "trtr", "seed": 0, "curve_reference_macro_f1": 0.8},
    {"variant": "trtr", "seed": 1, "curve_reference_macro_f1": 0.8},
    {"variant": "dagan", "seed": 0, "curve": [[2, 0.5, 10.0], [4, 0.7, 20.0], [6, 0.78, 30.0]]},
    {"variant": "dagan", "seed": 1, "curve": [[2, 0.55, 12.0], [4, 0.76, 22.0], [6, 0.74, 33.0]]},
    # written before the points carried seconds: 1 + epoch * 4
    {"variant": "mdgan", "seed": 0, "curve": [[2, 0.6], [4, 0.65]], "setup_seconds": 1.0,
     "seconds_per_epoch": 4.0},
    {"variant": "mdgan", "seed": 1, "curve": [[2, 0.62, 8.0], [4, 0.66, 16.0]]},
    {"variant": "ctgan-5ep", "seed": 0, "curve": [[5, 0.4, 15.0]]},
    {"variant": "ctgan-5ep", "seed": 1, "curve": [[5, 0.45, 16.0]]},
    {"variant": "ctgan", "seed": 0, "curve": [[10, 0.77, 28.0]]},
    {"variant": "ctgan", "seed": 1, "curve": [[10, 0.79, 31.0]]},
    {"variant": "fedsyn", "seed": 0, "error": "ConditionError: x"},
]


def test_curve_points_of_both_forms_and_ctgan_runs_as_one_line():
    points, estimated = ttq.curve_frame(RESULTS)
    assert estimated == ["mdgan"]
    old = points[(points["variant"] == "mdgan") & (points["seed"] == 0)]
    assert old["seconds"].tolist() == [9.0, 17.0]
    assert list(points["family"].unique()) == ["dagan", "mdgan", "ctgan"]
    assert sorted(points[points["family"] == "ctgan"]["epoch"].unique()) == [5, 10]
    # an old point without the times to estimate it from is left out, not guessed
    assert ttq.curve_points({"curve": [[2, 0.5]]}) == ([], False)
    assert ttq.default_budgets(points) == [16.0, 30.0]  # the ctgan runs' mean fit seconds


def test_equal_time_table_picks_the_best_point_within_each_budget():
    points, _ = ttq.curve_frame(RESULTS)
    at20 = ttq.best_within(points, 20.0)
    assert at20["dagan"]["mean"] == pytest.approx(0.625)  # 0.7 (seed 0) and 0.55 (seed 1)
    assert at20["dagan"]["std"] == pytest.approx(0.075)
    assert at20["mdgan"]["mean"] == pytest.approx(0.655)
    assert at20["ctgan"]["mean"] == pytest.approx(0.425)  # only the 5-epoch runs finished
    at30 = ttq.best_within(points, 30.0)
    assert at30["dagan"]["mean"] == pytest.approx(0.77)
    assert at30["ctgan"]["mean"] == pytest.approx((0.77 + 0.45) / 2)
    reach = ttq.time_to_reach(points, ttq.references(RESULTS), 0.95)  # 0.76
    assert (reach["dagan"]["mean"], reach["dagan"]["std"]) == (26.0, 4.0)
    assert reach["ctgan"]["mean"] == pytest.approx(29.5) and reach["mdgan"]["seeds"] == 0
    table = ttq.budget_table(points, ttq.references(RESULTS), [10.0, 20.0, 30.0])
    rows = {line.split(" | ")[0]: line.split(" | ")[1:] for line in table.splitlines()
            if line.startswith("| ") and not line.startswith("| variant")}
    assert rows["| dagan"] == ["0.500 ± 0.000 (1/2 seeds)", "0.625 ± 0.075", "0.770 ± 0.010",
                               "26.0 ± 4.0 |"]
    assert rows["| mdgan"][-1] == "not reached |" and rows["| ctgan"][0] == "–"
    assert ("At equal wall time, mdgan is ahead at 2 of 3 budgets (≤ 10 s: mdgan 0.610, "
            "dagan 0.500; ≤ 20 s: mdgan 0.655, dagan 0.625, ctgan 0.425; ≤ 30 s: dagan 0.770, "
            "mdgan 0.655, ctgan 0.610).") in table


def test_command_writes_the_table_and_the_plot(tmp_path: Path, capsys):
    from PIL import Image

    path = tmp_path / "run.json"
    path.write_text(json.dumps({"meta": META, "results": RESULTS}))
    assert ttq.main([str(path), "--budgets", "30", "20"]) == 0
    md = (tmp_path / "run_time_to_quality.md").read_text()
    assert md == capsys.readouterr().out
    assert "| variant | best ≤ 20 s | best ≤ 30 s | s to 95% of TRTR |" in md
    assert "Curve seconds estimated (setup s + epoch × s/epoch" in md and "mdgan." in md
    with Image.open(tmp_path / "run_time_to_quality.png") as image:
        image.verify()
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps({"meta": META, "results": RESULTS[:2]}))
    with pytest.raises(SystemExit):
        ttq.main([str(bare)])
    assert "--curve-every > 0" in capsys.readouterr().err
