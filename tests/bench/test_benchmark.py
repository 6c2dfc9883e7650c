"""The benchmark end to end on a tiny Adult setting: JSON fields, Markdown, plots, replot."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from bench import benchmark
from bench.options import default_data_dir

DATASETS = default_data_dir()
HAS_CTGAN = importlib.util.find_spec("ctgan") is not None
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NAME = "adult_K5_r20_b0.1_e3"

pytestmark = pytest.mark.skipif(not (DATASETS / "adult.csv").is_file(),
                                reason="real datasets missing")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """One tiny run (3 epochs, curve every 2) of dagan, and of ctgan (4 epochs) where it is
    installed."""
    out = tmp_path_factory.mktemp("bench")
    variants = ["dagan", "ctgan"] if HAS_CTGAN else ["dagan"]
    code = benchmark.main(["--dataset", "adult", "--max-rows", "600", "--epochs", "3",
                           "--seeds", "0", "--variants", *variants, "--jobs", "1",
                           "--curve-every", "2", "--ctgan-epochs", "4", "--out", str(out)])
    assert code == 0
    data = json.loads((out / f"{NAME}.json").read_text())
    return out, {r["variant"]: r for r in data["results"]} | {"meta": data["meta"]}


def assert_png(path: Path) -> None:
    from PIL import Image

    assert path.read_bytes()[:8] == PNG_SIGNATURE
    with Image.open(path) as image:
        image.verify()


@pytest.mark.slow
def test_library_variant_records_cost_ratio_and_curve(run):
    _, rows = run
    dagan, trtr = rows["dagan"], rows["trtr"]
    assert trtr["tstr_trtr_ratio"] == 1.0
    assert 0 < dagan["tstr_trtr_ratio"] < 2
    assert dagan["tstr_trtr_ratio"] == pytest.approx(
        dagan["tstr_macro_f1"] / trtr["tstr_macro_f1"])
    assert dagan["peak_rss_mb"] > 0 and dagan["sample_rows_per_s"] > 0
    assert 0 < dagan["seconds_per_epoch"] < dagan["fit_seconds"] < dagan["total_seconds"]
    assert [epoch for epoch, _, _ in dagan["curve"]] == [2, 3]  # every 2nd and the last epoch
    assert all(0 <= f1 <= 1 for _, f1, _ in dagan["curve"])
    # each point carries the training wall time when it was taken; the curve's own evaluations
    # (the first one before the last point) are not in it, so the last is within the fit
    (_, _, first), (_, _, last) = dagan["curve"]
    assert dagan["seconds_per_epoch"] < first < last <= dagan["fit_seconds"]
    assert dagan["curve_seconds"] > 0 and 0 < trtr["curve_reference_macro_f1"] <= 1
    meta = rows["meta"]
    assert meta["command"].startswith("python scripts/benchmark.py --dataset adult")
    assert meta["device"] == "cpu" and meta["curve_every"] == 2


@pytest.mark.slow
def test_ctgan_variant_records_its_training_loop(run):
    pytest.importorskip("ctgan")
    _, rows = run
    ctgan = rows["ctgan-4ep"]  # --ctgan-epochs 4 against --epochs 3
    assert ctgan["epochs"] == 4
    # its one curve point: the curve's HistGB on its final rows, at its whole fit's seconds
    ((epochs, f1, seconds),) = ctgan["curve"]
    assert epochs == 4 and 0 < f1 <= 1 and seconds == ctgan["fit_seconds"]
    assert 0 < ctgan["tstr_trtr_ratio"] < 2 and ctgan["peak_rss_mb"] > 0
    # the epochs exclude the data transformer's fit, which the whole fit includes
    assert 0 < 4 * ctgan["seconds_per_epoch"] < ctgan["fit_seconds"]
    assert ctgan["setup_seconds"] > 0 and ctgan["sample_rows_per_s"] > 0


@pytest.mark.slow
def test_markdown_and_plots_are_written_and_replot_rebuilds_them(run):
    out, rows = run
    md = (out / f"{NAME}.md").read_text()
    assert "Command: `python scripts/benchmark.py --dataset adult" in md
    assert f"({rows['meta']['date']})" in md
    for column in ("TSTR÷TRTR", "peak MB", "total s", "s/epoch", "worst-class F1"):
        assert f" {column} |" in md
    per_class = md.split("Per-class F1 (TSTR, mean of the utility models):")[1]
    results = [r for v, r in rows.items() if v != "meta" and not r.get("error")]
    classes = list(results[0]["tstr_class_f1"])
    assert len(classes) == 2 and f"| variant | {' | '.join(classes)} |" in per_class
    assert all(r["tstr_worst_class_f1"] == min(r["tstr_class_f1"].values()) for r in results)
    curve, quality = out / f"{NAME}_utility_vs_epochs.png", out / f"{NAME}_quality.png"
    assert_png(curve)
    assert_png(quality)
    if HAS_CTGAN:
        assert "ctgan: the `ctgan` package's CTGAN" in md and "no utility curve" in md
        assert "| ctgan-4ep | 1 |" in md
        assert "ctgan-Nep: the same, trained N epochs instead of 3" in md
    before = (out / f"{NAME}.json").read_text()
    curve.unlink()
    quality.unlink()
    assert benchmark.main(["--replot", str(out / f"{NAME}.json"), "--out", str(out)]) == 0
    assert_png(curve)
    assert_png(quality)
    assert (out / f"{NAME}.json").read_text() == before  # the source is left as it was
    again = (out / f"{NAME}.md").read_text()
    assert "re-rendered from" in again and again.split("| dagan |")[1] == md.split("| dagan |")[1]


def test_missing_ctgan_package_says_how_to_install(monkeypatch):
    from bench.ctgan_reference import import_ctgan

    monkeypatch.setitem(sys.modules, "ctgan", None)  # import ctgan -> ImportError
    with pytest.raises(ImportError, match=r"pip install -e \.\[bench\]"):
        import_ctgan()


def test_unknown_variant_and_missing_cuda_are_refused_before_training(capsys):
    with pytest.raises(SystemExit):
        benchmark.main(["--variants", "nope"])
    assert "unknown variant" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        benchmark.main(["--variants", "dagan", "--ctgan-epochs", "0"])
    assert "--ctgan-epochs and --jobs >= 1" in capsys.readouterr().err
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(SystemExit):
            benchmark.main(["--device", "cuda"])
        assert "no CUDA device" in capsys.readouterr().err


def test_merge_runs_dedupes_and_refuses_other_scenarios(tmp_path):
    from bench.report import merge_runs

    meta = {"dataset": "adult", "parties": 5, "size_ratio": 20.0, "beta": 0.1, "ir_cap": None,
            "epochs": 20, "max_rows": None, "seeds": [0], "date": "2026-11-22", "cores": 2,
            "device": "cpu", "command": "x", "wall_seconds": 1.0}
    a = [{"variant": "trtr", "seed": 0, "tstr_macro_f1": 0.8},
         {"variant": "dagan", "seed": 0, "tstr_macro_f1": 0.7},
         {"variant": "fedsyn", "seed": 0, "error": "ConditionError: x"}]
    b = [{"variant": "trtr", "seed": 0, "tstr_macro_f1": 0.8},
         {"variant": "dagan", "seed": 0, "tstr_macro_f1": 0.1},
         {"variant": "dagan", "seed": 1, "tstr_macro_f1": 0.6},
         {"variant": "fedsyn", "seed": 0, "tstr_macro_f1": 0.5}]
    for name, rows, m in (("a.json", a, meta), ("b.json", b, meta),
                          ("c.json", b, {**meta, "epochs": 10})):
        (tmp_path / name).write_text(json.dumps({"meta": m, "results": rows}))
    results, merged = merge_runs([tmp_path / "a.json", tmp_path / "b.json"])
    got = {(r["variant"], r["seed"]): r["tstr_macro_f1"] for r in results}
    # the first run wins, except that a finished job wins over a failed one
    assert got == {("trtr", 0): 0.8, ("dagan", 0): 0.7, ("dagan", 1): 0.6, ("fedsyn", 0): 0.5}
    assert merged["seeds"] == [0, 1] and "a.json" in merged["header"]
    # a merged file merges again and keeps the runs behind it
    (tmp_path / "ab.json").write_text(json.dumps({"meta": merged, "results": results}))
    (tmp_path / "d.json").write_text(json.dumps({"meta": {**meta, "command": "y"}, "results": [
        {"variant": "dagan", "seed": 2, "tstr_macro_f1": 0.5}]}))
    again, meta2 = merge_runs([tmp_path / "d.json", tmp_path / "ab.json"])
    assert [(r["variant"], r["seed"]) for r in again] == [  # by seed, then a fixed order
        ("trtr", 0), ("dagan", 0), ("fedsyn", 0), ("dagan", 1), ("dagan", 2)]
    assert "Merged from 3 runs" in meta2["header"]
    assert all(f"- `{n}`" in meta2["header"] for n in ("a.json", "b.json", "d.json"))
    assert {(r["variant"], r["seed"]): r["source"] for r in again if r["variant"] == "dagan"} == {
        ("dagan", 0): "a.json", ("dagan", 1): "b.json", ("dagan", 2): "d.json"}
    with pytest.raises(ValueError, match="epochs"):
        merge_runs([tmp_path / "a.json", tmp_path / "c.json"])


def test_a_failed_job_is_reported_not_averaged(tmp_path):
    from bench.report import markdown

    results = [{"variant": "trtr", "seed": 0, "tstr_macro_f1": 0.8},
               {"variant": "fedsyn", "seed": 0, "tstr_macro_f1": 0.5},
               {"variant": "fedsyn", "seed": 1, "error": "ConditionError: no class 'yes'"}]
    table = markdown(results, "### t")
    row = next(line for line in table.splitlines() if line.startswith("| fedsyn"))
    assert row.startswith("| fedsyn | 1 | 0.500 ± 0.000")
    assert "Failed, not in the means: fedsyn seed 1: ConditionError: no class 'yes'." in table


def test_run_one_records_an_error_instead_of_raising(monkeypatch):
    def boom(args):
        raise ValueError("bad scenario")

    monkeypatch.setattr(benchmark, "_run_one", boom)
    out = benchmark.run_one(("dagan", 3, {}))
    assert out == {"variant": "dagan", "seed": 3, "error": "ValueError: bad scenario"}


def test_curve_scores_a_young_model_on_the_rows_it_makes(monkeypatch):
    from types import SimpleNamespace

    import dagan_core.metrics
    from bench.utility_curve import UtilityCurve

    asked = []

    class Young:  # cannot make the asked labels yet: only lenient sampling gives rows
        def sample(self, n, seed, strict=True):
            asked.append(strict)
            if strict:
                raise AssertionError("the curve must not need an obedient model")
            return pd.DataFrame({"x": range(n), "y": ["a"] * n, "party": "p"})

    def score(rows, test, label, discrete, models, seed):
        assert list(rows.columns) == ["x", "y"]
        return SimpleNamespace(mean={"macro_f1": 0.25})

    monkeypatch.setattr(dagan_core.metrics, "ml_utility", score)
    curve = UtilityCurve(Young(), every=1, epochs=2, n_rows=10, test=None, label="y",
                         discrete_columns=["y"], seed=0)
    curve.start()
    curve(SimpleNamespace(epoch=0))
    assert asked == [False] and curve.points[0][:2] == [1, 0.25]
    assert 0 <= curve.points[0][2] < 5  # the training seconds before this point


def test_several_ctgan_epoch_counts_make_one_job_each():
    from argparse import Namespace

    a = Namespace(variants=["dagan", "ctgan"], seeds=[0, 1], epochs=10, ctgan_epochs=[5, 10, 5])
    jobs = benchmark._jobs(a, {"ctgan_epochs": [5, 10, 5]})
    assert [(v, s) for v, s, _ in jobs] == [
        (v, s) for s in (0, 1) for v in ("trtr", "dagan", "ctgan-5ep", "ctgan")]
    assert [o["ctgan_epochs"] for v, s, o in jobs if s == 0] == [[5, 10, 5], [5, 10, 5], 5, 10]
    single = Namespace(variants=["ctgan"], seeds=[0], epochs=3, ctgan_epochs=None)
    assert [v for v, _, _ in benchmark._jobs(single, {})] == ["trtr", "ctgan"]


def test_replot_reads_curve_points_with_and_without_seconds(tmp_path):
    from bench.plots import mean_curves

    results = [{"variant": "dagan", "seed": 0, "curve": [[2, 0.5], [4, 0.6]]},
               {"variant": "dagan", "seed": 1, "curve": [[2, 0.7, 3.0], [4, 0.8, 6.0]]}]
    c = mean_curves(results)["dagan"]
    assert c["mean"].round(6).to_dict() == {2: 0.6, 4: 0.7}


def test_label_misses_column_counts_only_sampled_variants():
    from bench.report import markdown

    results = [{"variant": "trtr", "seed": 0, "tstr_macro_f1": 0.8},
               {"variant": "fedsyn", "seed": 0, "tstr_macro_f1": 0.5, "unmet_label_rows": 130},
               {"variant": "dagan", "seed": 0, "tstr_macro_f1": 0.7}]  # strict: none missed
    rows = {line.split(" | ")[0]: line.rstrip(" |").split(" | ")[-1]
            for line in markdown(results, "### t").splitlines() if line.startswith("| ")}
    assert rows["| fedsyn"] == "130 ± 0" and rows["| dagan"] == "0 ± 0"
    assert rows["| trtr"] == "–"


def test_patience_and_a_time_budget_reach_the_library_variants(tmp_path):
    code = benchmark.main(["--dataset", "adult", "--max-rows", "400", "--epochs", "6",
                           "--patience", "1", "--max-seconds", "60", "--seeds", "0",
                           "--variants", "mdgan", "--jobs", "1", "--curve-every", "0",
                           "--out", str(tmp_path)])
    assert code == 0
    name = "adult_K5_r20_b0.1_e6_p1_t60"
    data = json.loads((tmp_path / f"{name}.json").read_text())
    (result,) = [r for r in data["results"] if r["variant"] == "mdgan"]
    assert 1 <= result["epochs_run"] <= 6 and 0 <= result["kept_epoch"] < result["epochs_run"]
    assert result["stop_reason"] in ("no_improvement", "max_epochs", "max_seconds")
    assert len(result["fit_score_by_epoch"]) == len(result["heldout_f1_by_epoch"]) \
        == result["epochs_run"]
    assert all(0 <= f1 <= 1 for f1 in result["heldout_f1_by_epoch"] if f1 is not None)
    md = (tmp_path / f"{name}.md").read_text()
    assert "the library's variants with patience 1 (best epoch kept) and at most 60 s" in md
    assert " epochs run | kept epoch |" in md
