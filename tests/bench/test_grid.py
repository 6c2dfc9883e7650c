"""The harder-scenario grid, the rare-class flags of the benchmark and its per-job lines."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bench import benchmark, benchmark_args, grid
from bench.options import scenario_suffix
from bench.report import header_text, merge_runs, read_job_lines


def test_print_gives_each_entry_its_benchmark_command(capsys):
    code = grid.main(["r100-k20", "rare-one-party", "rare-absent", "--print", "--seeds", "0",
                      "1", "--epochs", "40", "--max-rows", "10000", "--variants", "dagan",
                      "mdgan", "--jobs", "3", "--out", "/x/harder"])
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "python scripts/benchmark.py --dataset adult --parties 20 --size-ratio 100 --beta 0.1 "
        "--epochs 40 --seeds 0 1 --jobs 3 --device cpu --curve-every 0 --out /x/harder "
        "--variants dagan mdgan --max-rows 10000",
        "python scripts/benchmark.py --dataset adult --parties 10 --size-ratio 100 --beta 0.1 "
        "--rare-party smallest --epochs 40 --seeds 0 1 --jobs 3 --device cpu --curve-every 0 "
        "--out /x/harder --variants dagan mdgan --max-rows 10000",
        "python scripts/benchmark.py --dataset adult --parties 10 --size-ratio 100 --beta 0.1 "
        "--rare-absent 1 --epochs 40 --seeds 0 1 --jobs 3 --device cpu --curve-every 0 "
        "--out /x/harder --variants dagan mdgan --max-rows 10000",
    ]


def test_every_entry_is_accepted_by_the_benchmark_parser():
    run = grid._parser().parse_args(["--seeds", "0"])
    for name in grid.GRID:
        a = benchmark_args.build_parser().parse_args(grid.grid_args(name, run))
        benchmark_args.check_args(benchmark_args.build_parser(), a)  # the scenario flags validate


def test_unknown_entry_is_named(capsys):
    with pytest.raises(SystemExit):
        grid.main(["rare-everywhere", "--print"])
    assert "unknown grid entry 'rare-everywhere'; the grid has r100-k10" in capsys.readouterr().err


def test_result_names_tell_the_scenarios_apart():
    assert scenario_suffix(None, None, 0) == ""
    assert scenario_suffix(10.0, None, 0) == "_ir10"
    assert scenario_suffix(None, "smallest", 0) == "_rare-smallest"
    assert scenario_suffix(None, None, 3) == "_rare-absent3"


def test_bad_rare_flags_stop_before_any_job(capsys):
    with pytest.raises(SystemExit):
        benchmark.main(["--parties", "10", "--rare-absent", "10", "--variants", "dagan"])
    err = capsys.readouterr().err
    assert "scenario parameter rare_absent=10 is invalid" in err and "[0, 9]" in err


def _fake_jobs(monkeypatch, log_name: str, seen: list) -> None:
    """Jobs run in a thread by a stand-in that waits (up to 10 s) for the earlier jobs' lines and
    records how many lines it found."""
    def fake(job):
        variant, seed, opts = job
        want, deadline = 1 + len(seen), time.monotonic() + 10
        while (n := len(Path(opts["log_probe"]).read_text().splitlines())) < want and (
                time.monotonic() < deadline):
            time.sleep(0.01)
        seen.append(n)
        return {"variant": variant, "seed": seed, "tstr_macro_f1": 0.5 + 0.1 * len(seen),
                "fit_seconds": 1.0, "total_seconds": 1.0}

    monkeypatch.setattr(benchmark, "run_one", fake)
    monkeypatch.setattr(benchmark, "_worker_pool", lambda jobs: ThreadPoolExecutor(1))
    monkeypatch.setattr(benchmark, "benchmark_files", lambda dataset, data_dir: None)
    real = benchmark._run_jobs

    def run_jobs(jobs, workers, meta, partial, started, log):
        assert log.name == log_name
        jobs = [(v, s, {**o, "log_probe": str(log)}) for v, s, o in jobs]
        return real(jobs, workers, meta, partial, started, log)

    monkeypatch.setattr(benchmark, "_run_jobs", run_jobs)


def test_each_finished_job_is_a_line_at_once_and_merge_reads_them(monkeypatch, tmp_path):
    name = "adult_K10_r100_b0.1_e2_rare-smallest"
    seen: list[int] = []
    _fake_jobs(monkeypatch, f"{name}.jobs.jsonl", seen)
    code = benchmark.main(["--parties", "10", "--size-ratio", "100", "--rare-party", "smallest",
                           "--epochs", "2", "--seeds", "0", "1", "--variants", "dagan",
                           "--jobs", "1", "--curve-every", "0", "--out", str(tmp_path)])
    assert code == 0
    assert seen == [1, 2, 3, 4]  # the meta line, then one more line before each next job
    lines = (tmp_path / f"{name}.jobs.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["meta"]["rare_party"] == "smallest"
    assert [(json.loads(x)["result"]["variant"], json.loads(x)["result"]["seed"])
            for x in lines[1:]] == [("trtr", 0), ("dagan", 0), ("trtr", 1), ("dagan", 1)]
    data = json.loads((tmp_path / f"{name}.json").read_text())
    assert data["meta"]["rare_party"] == "smallest" and data["meta"]["rare_absent"] == 0
    md = (tmp_path / f"{name}.md").read_text()
    assert "IR cap None, rarest class all in the smallest party, 2 epochs" in md
    # a run cut short: its lines so far make a table
    (tmp_path / "cut.jobs.jsonl").write_text("\n".join(lines[:3]) + "\n")
    assert len(read_job_lines(tmp_path / "cut.jobs.jsonl")["results"]) == 2
    results, _ = merge_runs([tmp_path / "cut.jobs.jsonl", tmp_path / f"{name}.json"])
    assert len(results) == 4
    # --merge of the lines alone keeps the run's whole name (dots and all)
    log = tmp_path / f"{name}.jobs.jsonl"
    assert benchmark.main(["--merge", str(log), "--out", str(tmp_path / "merged")]) == 0
    assert len(json.loads((tmp_path / "merged" / f"{name}.json").read_text())["results"]) == 4


def test_merge_refuses_another_rare_placement(tmp_path):
    meta = {"dataset": "adult", "parties": 10, "size_ratio": 100.0, "beta": 0.1,
            "ir_cap": None, "epochs": 2, "max_rows": None, "patience": 0, "max_seconds": None,
            "command": "c", "date": "d", "cores": 1, "device": "cpu", "seeds": [0]}
    result = {"variant": "trtr", "seed": 0, "tstr_macro_f1": 0.8}
    (tmp_path / "old.json").write_text(json.dumps({"meta": meta, "results": [result]}))
    (tmp_path / "rare.json").write_text(json.dumps(
        {"meta": {**meta, "rare_party": "largest", "rare_absent": 0}, "results": [result]}))
    (tmp_path / "plain.json").write_text(json.dumps(
        {"meta": {**meta, "rare_party": None, "rare_absent": 0}, "results": [result]}))
    assert merge_runs([tmp_path / "old.json", tmp_path / "plain.json"])  # same scenario
    with pytest.raises(ValueError, match="rare_party"):
        merge_runs([tmp_path / "old.json", tmp_path / "rare.json"])
    assert "rarest class absent from the 3 smallest parties" in header_text(
        {**meta, "rare_absent": 3, "wall_seconds": 1.0})
