"""Scaling runs, on tiny settings."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dagan_core import scaling
from dagan_core.errors import ConfigError

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
needs_datasets = pytest.mark.skipif(not (DATASETS / "adult.csv").is_file(),
                                    reason="shared/datasets not available")


def test_loglog_slope_of_known_series():
    x = [2, 5, 10, 20, 50]
    assert scaling.loglog_slope(x, [3.0 * v for v in x]) == pytest.approx(1.0)
    assert scaling.loglog_slope(x, [0.1 * v**2 for v in x]) == pytest.approx(2.0)
    assert scaling.loglog_slope(x, [7.0] * 5) == pytest.approx(0.0, abs=1e-12)
    assert scaling.loglog_slope(x, [v**0.5 for v in x]) == pytest.approx(0.5)
    assert scaling.loglog_slope([5], [1.0]) is None


def test_slopes_verdict():
    records = [{"sweep": "rows", "strategy": "dagan", "rows": n, "seconds_per_epoch": s}
               for n, s in [(1000, 1.0), (4000, 2.0), (16000, 4.0)]]
    records += [{"sweep": "parties", "strategy": "dagan", "n_parties": k,
                 "seconds_per_epoch": 0.5 * k**1.5} for k in (2, 8)]
    fits = {f["sweep"]: f for f in scaling.slopes(records)}
    assert fits["rows"]["slope"] == pytest.approx(0.5) and fits["rows"]["at_most_linear"]
    assert fits["parties"]["slope"] == pytest.approx(1.5)
    assert fits["parties"]["at_most_linear"] is False


def test_steps_per_epoch():
    assert scaling.steps_per_epoch("dagan", [700, 300, 40], 500) == 2
    assert scaling.steps_per_epoch("ctgan", [100], 500) == 1
    assert scaling.steps_per_epoch("fedsyn", [1200, 300, 40], 500) == 4


@needs_datasets
def test_scaling_small_run(tmp_path, capsys):
    out = tmp_path / "scaling"
    argv = ["--parties", "2", "3", "--rows", "600", "1200", "--max-rows", "600", "--epochs", "1",
            "--min-party-rows", "20", "--datasets", str(DATASETS), "--out", str(out)]
    assert scaling.main(argv, prog="dagan scaling") == 0
    payload = json.loads((out / "scaling.json").read_text())
    assert payload["command"].startswith("dagan scaling --parties 2 3")
    assert payload["date"] and payload["machine"]["torch_threads"] == 1
    points = payload["points"]
    assert [(p["sweep"], p["n_parties"], p["rows"]) for p in points] == [
        ("parties", 2, 600), ("parties", 3, 600), ("rows", 5, 600), ("rows", 5, 1200)]
    for p in points:
        assert p["strategy"] == "dagan" and len(p["epoch_seconds"]) == 1
        assert p["seconds_per_epoch"] > 0 and p["seconds_per_step"] > 0
        assert p["wall_seconds_per_epoch"] >= p["seconds_per_epoch"] * 0.9
        assert p["steps_per_epoch"] == p["rows"] // 500 and p["peak_rss_mb"] > 0
        assert p["party_rows_min"] >= 20
    # 600 rows at K=5 cannot keep ratio 20 with 20 rows per party: the ratio is lowered
    assert points[2]["size_ratio_lowered"] and points[2]["size_ratio"] < 20
    assert not points[3]["size_ratio_lowered"]
    assert {(f["sweep"], f["n_points"]) for f in payload["slopes"]} == {("parties", 2),
                                                                         ("rows", 2)}
    assert all(isinstance(f["slope"], float) for f in payload["slopes"])
    report = (out / "scaling.md").read_text()
    assert "Command: `dagan scaling --parties 2 3" in report and payload["date"] in report
    assert (out / "time_vs_parties.png").stat().st_size > 0
    assert (out / "time_vs_rows.png").stat().st_size > 0
    assert "Log-log slopes" in capsys.readouterr().out


def test_scenario_parties_lowers_the_ratio_until_every_party_has_its_rows():
    train = pd.DataFrame({"x": np.arange(50.0), "y": ["a", "b"] * 25})
    with pytest.raises(ConfigError, match="cannot give 5 parties 20 rows"):
        scaling.scenario_parties(train, "y", 5, 20.0, 0.1, 0, 20)
    parties, ratio = scaling.scenario_parties(train, "y", 2, 20.0, 0.1, 0, 20)
    assert ratio < 20 and min(len(d) for d in parties.values()) >= 20
    assert sum(len(d) for d in parties.values()) == 50
