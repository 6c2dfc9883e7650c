"""Scaling runs and the FLOP count, on tiny settings."""

from __future__ import annotations

import importlib.util
import json
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from bench import flops, matmul_count, scaling, scaling_report
from bench.options import default_data_dir
from dagan_core.errors import ConfigError, DAGANError

DATASETS = default_data_dir()
needs_datasets = pytest.mark.skipif(not (DATASETS / "adult.csv").is_file(),
                                    reason="shared/datasets not available")


def test_loglog_slope_of_known_series():
    x = [2, 5, 10, 20, 50]
    assert scaling_report.loglog_slope(x, [3.0 * v for v in x]) == pytest.approx(1.0)
    assert scaling_report.loglog_slope(x, [0.1 * v**2 for v in x]) == pytest.approx(2.0)
    assert scaling_report.loglog_slope(x, [7.0] * 5) == pytest.approx(0.0, abs=1e-12)
    assert scaling_report.loglog_slope(x, [v**0.5 for v in x]) == pytest.approx(0.5)
    assert scaling_report.loglog_slope([5], [1.0]) is None


def test_slopes_verdict():
    records = [{"sweep": "rows", "strategy": "dagan", "rows": n, "seconds_per_epoch": s}
               for n, s in [(1000, 1.0), (4000, 2.0), (16000, 4.0)]]
    records += [{"sweep": "parties", "strategy": "dagan", "n_parties": k,
                 "seconds_per_epoch": 0.5 * k**1.5} for k in (2, 8)]
    fits = {f["sweep"]: f for f in scaling_report.slopes(records)}
    assert fits["rows"]["slope"] == pytest.approx(0.5) and fits["rows"]["at_most_linear"]
    assert fits["parties"]["slope"] == pytest.approx(1.5)
    assert fits["parties"]["at_most_linear"] is False


def test_steps_per_epoch():
    assert scaling.steps_per_epoch("dagan", [700, 300, 40], 500) == 2
    assert scaling.steps_per_epoch("ctgan", [100], 500) == 1
    assert scaling.steps_per_epoch("fedsyn", [1200, 300, 40], 500) == 4


def test_counted_flops_of_a_linear_layer():
    m, k, n = 7, 11, 5
    layer = torch.nn.Linear(k, n)
    x = torch.randn(m, k, requires_grad=True)
    counted, calls = matmul_count.count(lambda: layer(x))
    assert counted == 2 * m * n * k
    assert [(c.op, c.shapes[1:]) for c in calls] == [("addmm", ((m, k), (k, n)))]
    # forward + backward: the input and the weight gradients are two more m x n x k products
    counted, calls = matmul_count.count(lambda: layer(x).sum().backward())
    assert counted == 3 * 2 * m * n * k == sum(c.flops for c in calls)


def test_count_survives_autograd_grad_on_a_leaf():
    """Gradient penalties take gradients w.r.t. leaf inputs with create_graph=True."""
    layer = torch.nn.Linear(6, 4)
    x = torch.randn(8, 6, requires_grad=True)

    def penalty():
        (grad,) = torch.autograd.grad(layer(x).sum(), x, create_graph=True)
        return grad.norm()

    counted, calls = matmul_count.count(penalty)
    assert counted > 0 and counted == sum(c.flops for c in calls)


def test_replay_and_square_matmul_are_timed():
    a = torch.randn(64, 32)
    b = torch.randn(16, 32).t()  # a transposed operand keeps its strides in the replay
    c, d = torch.randn(3, 4, 5), torch.randn(3, 5, 2)
    _, calls = matmul_count.count(lambda: (a @ b, torch.bmm(c, d)))
    assert [c.op for c in calls] == ["mm", "bmm"]
    assert calls[0].strides[1] == (1, 32)
    assert calls[1].flops == 2 * 3 * 4 * 5 * 2
    assert matmul_count.replay_seconds(calls, torch.device("cpu"), repeats=1) > 0
    assert matmul_count.replay_seconds([], torch.device("cpu")) == 0.0
    assert matmul_count.square_gflops(64, torch.device("cpu"), repeats=1) > 0


def test_split_steps_finds_the_probe():
    def call(op, m):
        return matmul_count.MatmulCall(op, ((m, 4), (4, 3)), ((4, 1), (3, 1)), "torch.float32")

    step = [call("addmm", 10), call("mm", 10)]
    probe = [call("addmm", 2)]
    steps_b, probe_b, per_step = matmul_count.split_steps(step * 2 + probe, step * 4 + probe, 2)
    assert per_step == 2 and steps_b == step * 4 and probe_b == probe
    with pytest.raises(DAGANError, match="cannot split"):
        matmul_count.split_steps(step + probe, step + probe * 2, 2)
    with pytest.raises(DAGANError, match="do not run the same matmuls"):
        matmul_count.split_steps(step + probe, step + step[::-1] + probe, 1)


@needs_datasets
def test_scaling_small_run(tmp_path, capsys):
    out = tmp_path / "scaling"
    argv = ["--parties", "2", "3", "--rows", "600", "1200", "--max-rows", "600", "--epochs", "1",
            "--min-party-rows", "20", "--in-process", "--data-dir", str(DATASETS),
            "--out", str(out)]
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


@needs_datasets
def test_scaling_fits_each_point_in_a_fresh_process(tmp_path):
    out = tmp_path / "scaling"
    argv = ["--sweep", "rows", "--rows", "600", "--max-rows", "600", "--epochs", "1",
            "--min-party-rows", "20", "--strategies", "dagan", "ctgan",
            "--data-dir", str(DATASETS), "--out", str(out)]
    assert scaling.main(argv) == 0
    payload = json.loads((out / "scaling.json").read_text())
    assert payload["settings"]["in_process"] is False
    dagan, ctgan = payload["points"]
    assert dagan["seconds_per_epoch"] > 0 and dagan["peak_rss_mb"] > 0
    # CTGAN on the pooled rows, or a note where the package is missing
    assert ctgan.get("seconds_per_epoch", 0) > 0 or "not installed" in ctgan["skipped"]
    assert all(f["slope"] is None for f in payload["slopes"])  # one point: no slope
    assert not (out / "time_vs_parties.png").exists() and (out / "time_vs_rows.png").exists()


def test_scenario_parties_lowers_the_ratio_until_every_party_has_its_rows():
    train = pd.DataFrame({"x": np.arange(50.0), "y": ["a", "b"] * 25})
    with pytest.raises(ConfigError, match="cannot give 5 parties 20 rows"):
        scaling.scenario_parties(train, "y", 5, 20.0, 0.1, 0, 20)
    parties, ratio = scaling.scenario_parties(train, "y", 2, 20.0, 0.1, 0, 20)
    assert ratio < 20 and min(len(d) for d in parties.values()) >= 20
    assert sum(len(d) for d in parties.values()) == 50


@needs_datasets
def test_flops_small_run(tmp_path):
    out = tmp_path / "speed"
    argv = ["--max-rows", "600", "--count-steps", "1", "--square-size", "128", "--repeats", "1",
            "--data-dir", str(DATASETS), "--out", str(out)]
    assert flops.main(argv, prog="dagan flops") == 0
    payload = json.loads((out / "flops.json").read_text())
    r = payload["result"]
    assert payload["command"].startswith("dagan flops --max-rows 600")
    assert r["steps_per_epoch"] == 1 and r["matmuls_per_step"] > 0
    assert r["counter_matches_log"] and r["flop_counter_window_b"] > 0
    assert r["flop_per_epoch"] == pytest.approx(r["flop_per_step"] + r["flop_probe"])
    assert r["seconds_per_epoch"] > 0 and r["replay_seconds_per_epoch"] > 0
    assert r["achieved_gflops"] > 0 and r["replay_gflops"] > 0
    assert r["square_matmul"]["gflops"] > 0
    assert r["ratio_real_to_replay"] == pytest.approx(
        r["seconds_per_epoch"] / r["replay_seconds_per_epoch"])
    assert r["shapes"] and all(s["flop_each"] > 0 for s in r["shapes"])
    report = (out / "flops.md").read_text()
    assert "Command: `dagan flops --max-rows 600" in report and "FLOP per epoch" in report


def test_ctgan_is_skipped_with_a_note_when_not_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "ctgan", None)  # import ctgan -> ImportError
    opts = scaling.build_parser().parse_args([])
    record = scaling.time_point("ctgan", {"p": pd.DataFrame({"y": ["a"]})}, "y", [], opts)
    assert record == {"strategy": "ctgan", "skipped": "the ctgan package is not installed"}


def test_epoch_timing_reports_every_variant(tmp_path):
    from bench import epoch_timing

    variants = ["dagan-batched", "dagan-sequential"]
    if importlib.util.find_spec("ctgan") is not None:
        variants.append("ctgan")
    args = ["--variants", *variants, "--epochs", "1", "--threads", "1", "--sample-rows", "2000",
            "--max-rows", "1500", "--out", str(tmp_path), "--name", "t"]
    assert epoch_timing.main(args, prog="epoch_timing") == 0
    payload = json.loads((tmp_path / "t.json").read_text())
    assert [r["variant"] for r in payload["results"]] == variants
    for r in payload["results"]:
        assert len(r["epoch_seconds"]) == 1 and r["mean_epoch_seconds"] > 0
        assert r["sample_rows_per_second"] > 0
    assert "| dagan-sequential |" in (tmp_path / "t.md").read_text()
