"""Compare DAGAN with its baselines on a dual-imbalance scenario of a real table.

For every seed: build the scenario (test set held out first), fit every variant for the same
number of epochs, sample as many rows as the parties hold, and score TSTR (mean of LR, DT, RF,
HistGB on the real test set), similarity, per-party detection AUC, DCR and membership-inference
AUC. Every (variant, seed) runs in a fresh worker process, which also records its fit time,
seconds per epoch, sampling speed and peak memory; the library's variants also record a cheap
utility curve over epochs (``--curve-every``). Writes JSON, a Markdown table of mean ± std over
seeds, and PNG plots (see :mod:`bench.report`).

Example::

    python scripts/benchmark.py --dataset adult --seeds 0 1 2 --epochs 30 --jobs 2
    dagan bench --dataset adult --seeds 0 1 2 --epochs 30 --jobs 2      (the same)
    python scripts/benchmark.py --replot results/adult_K5_r20_b0.1_e30.json   (no training)

The tables are read from ``--data-dir`` (default: ``$DAGAN_DATASETS_DIR``, else
``../shared/datasets`` next to the repository); the outputs go to ``--out`` (default
``results/tmp``, so a run never overwrites the committed results).

Variant ``ctgan`` (the ``ctgan`` package on the pooled rows) needs ``pip install -e .[bench]``;
``--ctgan-epochs N`` trains it N epochs instead of ``--epochs`` (the results are then named
``ctgan-Nep``), e.g. to give it the wall time DAGAN takes for ``--epochs``; several values
(``--ctgan-epochs 5 10 20``) fit it once for each. With a utility curve, every curve point also
carries its training wall time, and ctgan's final rows are scored by the curve's model as its
one point, for ``scripts/time_to_quality.py``.
Each finished (variant, seed) writes one progress line to stderr and one line to
``--out``/NAME.jobs.jsonl (the first line: the run's meta), so a run stopped by a time limit keeps
every finished job (``--merge`` reads that file too).
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import shlex
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import date
from pathlib import Path
from typing import Any

from bench.benchmark_args import build_parser, check_args
from bench.datasets import benchmark_files
from bench.options import (
    partial_path,
    refuse_tracked,
    scenario_suffix,
)
from bench.report import load_results, write_outputs
from bench.variants import (
    ctgan_runs,
    fit_ctgan_variant,
    fit_library_variant,
)

__all__ = ["main", "run_one"]

# imported once by the fork server, so that each fresh worker starts quickly
PRELOAD = ["numpy", "pandas", "torch", "sklearn.ensemble", "sklearn.linear_model",
           "dagan_core", "dagan_core.metrics", "bench.scenario", "bench.variants",
           "bench.benchmark"]


def run_one(args: tuple) -> dict:
    """Fit and score one (variant, seed) in a fresh one-thread worker process. A job that fails
    (e.g. a model that cannot produce a party's label class) is recorded with its error instead
    of stopping the whole run."""
    variant, seed, _ = args
    try:
        return _run_one(args)
    except Exception as exc:  # noqa: BLE001 - reported in the table's notes
        logging.getLogger(__name__).exception("%s seed %s failed", variant, seed)
        return {"variant": variant, "seed": seed, "error": f"{type(exc).__name__}: {exc}"}


def _run_one(args: tuple) -> dict:
    variant, seed, opts = args
    started = time.perf_counter()
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    with threadpool_limits(1):
        from bench.memory import peak_gpu_mb, peak_rss_mb
        from bench.scenario import set_up
        from bench.utility_curve import CURVE_MODELS
        from dagan_core.metrics import ml_utility, privacy_report, similarity_report

        setup = set_up(opts["dataset"], Path(opts["datasets"]), seed=seed,
                       max_rows=opts["max_rows"], n_parties=opts["parties"],
                       size_ratio=opts["size_ratio"], beta=opts["beta"], ir_cap=opts["ir_cap"],
                       rare_party=opts.get("rare_party"), rare_absent=opts.get("rare_absent", 0))
        pooled = setup.pooled()
        all_discrete = setup.all_discrete
        out: dict[str, Any] = {"variant": variant, "seed": seed}
        if variant == "trtr":
            synth_rows = pooled
            out["fit_seconds"] = 0.0
            out["party_class_counts"] = setup.class_counts()
            if setup.rare:
                out["rare"] = setup.rare
            if opts["curve_every"]:  # the utility curve's model on the real rows
                out["curve_reference_macro_f1"] = ml_utility(
                    pooled.drop(columns="party"), setup.test, setup.label, all_discrete,
                    models=CURVE_MODELS, seed=seed).mean["macro_f1"]
        else:
            if variant.startswith("ctgan"):
                synth_rows, fit = fit_ctgan_variant(seed, opts, pooled, all_discrete)
                if opts["curve_every"]:  # its one curve point: the curve's model, final rows
                    f1 = ml_utility(synth_rows, setup.test, setup.label, all_discrete,
                                    models=CURVE_MODELS, seed=seed).mean["macro_f1"]
                    fit["curve"] = [[fit["epochs"], f1, fit["fit_seconds"]]]
            else:
                synth_rows, fit = fit_library_variant(variant, seed, opts, setup)
            out.update(fit)
            out["peak_rss_mb"] = peak_rss_mb()  # up to here: loading, fit, curve, sampling
            if (gpu := peak_gpu_mb()) is not None:
                out["peak_gpu_mb"] = gpu
        report = ml_utility(synth_rows.drop(columns="party", errors="ignore"), setup.test,
                            setup.label, all_discrete, seed=seed)
        out.update({f"tstr_{k}": v for k, v in report.mean.items()})
        out["tstr_class_f1"] = report.class_f1
        out["tstr_worst_class_f1"] = min(report.class_f1.values())
        if variant != "trtr":
            sim = similarity_report(pooled, synth_rows, all_discrete, label=setup.label,
                                    detection=True, seed=seed)
            priv = privacy_report(pooled, synth_rows, setup.test, all_discrete, seed=seed)
            out.update({k: v for k, v in sim.items() if isinstance(v, float)})
            out.update({k: v for k, v in priv.items() if isinstance(v, float)})
        out["total_seconds"] = time.perf_counter() - started
        return out


def _worker_pool(jobs: int) -> ProcessPoolExecutor:
    """Workers that each run one job in a fresh process (so its peak memory is its own)."""
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload(PRELOAD)
    return ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, max_tasks_per_child=1)


def _replot(path: Path, out: Path) -> int:
    results, meta = load_results(path)
    refuse_tracked(out, [f"{path.stem}.md", f"{path.stem}*.png"])
    table = write_outputs(results, meta, out, path.stem, write_json=False)
    sys.stdout.write(table + "\n")
    return 0


def _append_line(path: Path, record: dict) -> None:
    with path.open("a") as f:
        f.write(json.dumps(record, default=float) + "\n")
        f.flush()
        os.fsync(f.fileno())


def _run_jobs(jobs: list, workers: int, meta: dict, partial: Path, started: float,
              log: Path) -> list:
    """Run the jobs in worker processes; results in job order. Each finished job is written to
    ``partial`` at once (removed at the end) and appended to ``log`` (JSON lines, the first the
    meta; kept), so an interrupted run keeps what finished."""
    results = []
    log.write_text(json.dumps({"meta": meta}, default=float) + "\n")
    with _worker_pool(workers) as pool:
        futures = {pool.submit(run_one, job): i for i, job in enumerate(jobs)}
        for future in as_completed(futures):
            results.append((futures[future], future.result()))
            result = results[-1][1]
            _append_line(log, {"result": result})
            sys.stderr.write(
                f"[{len(results)}/{len(jobs)}] {result['variant']} seed {result['seed']}: "
                f"TSTR macro-F1 {result.get('tstr_macro_f1', float('nan')):.3f}, "
                f"fit {result.get('fit_seconds', 0.0):.0f}s "
                f"({time.perf_counter() - started:.0f}s elapsed)\n"
            )
            partial.write_text(json.dumps({"meta": meta, "results": [r for _, r in results]},
                                          default=float))
    partial.unlink()
    return [r for _, r in sorted(results, key=lambda x: x[0])]


def _jobs(a: argparse.Namespace, opts: dict) -> list[tuple[str, int, dict]]:
    """(variant, seed, options) of every job: per seed the trtr row, then each variant, ctgan
    once per ``--ctgan-epochs`` value (its job's options then hold that one value)."""
    runs: list[tuple[str, dict]] = [("trtr", opts)]
    for v in a.variants:
        if v == "ctgan":
            runs += [(name, {**opts, "ctgan_epochs": n})
                     for name, n in ctgan_runs(a.epochs, a.ctgan_epochs)]
        else:
            runs.append((v, opts))
    return [(v, s, o) for s in a.seeds for v, o in runs]


def _existing(flag: str, paths: list[Path]) -> None:
    """Refuse a ``--replot`` / ``--merge`` file that is not there, naming it."""
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"{flag} {path}: no such file")


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """Command-line entry point; returns the exit status.

    Raises:
        ConfigError: an unknown ``--dataset`` or a missing table under ``--data-dir``.
        FileNotFoundError: a ``--replot`` or ``--merge`` file that is not there.
    """
    p = build_parser(prog)
    a = p.parse_args(argv)
    _existing("--replot", [a.replot] if a.replot is not None else [])
    _existing("--merge", list(a.merge or []))
    if a.replot is not None:
        return _replot(a.replot, a.out)
    if a.merge:
        from bench.report import merge_runs

        name = a.name or a.merge[0].name.removesuffix(".json").removesuffix(
            ".jsonl").removesuffix(".jobs").removesuffix(".partial")
        refuse_tracked(a.out, [f"{name}.json", f"{name}.md", f"{name}*.png"])
        results, meta = merge_runs(a.merge)
        table = write_outputs(results, meta, a.out, name)
        sys.stdout.write(table + "\n")
        return 0
    check_args(p, a)
    benchmark_files(a.dataset, a.data_dir)  # before any worker starts
    logging.basicConfig(level=logging.WARNING)
    opts = {k: getattr(a, k) for k in ("dataset", "epochs", "parties", "size_ratio", "beta",
                                       "ir_cap", "rare_party", "rare_absent", "max_rows",
                                       "device", "curve_every",
                                       "ctgan_epochs", "patience", "max_seconds")}
    opts["datasets"] = str(a.data_dir)
    jobs = _jobs(a, opts)
    started = time.perf_counter()
    name = f"{a.dataset}_K{a.parties}_r{a.size_ratio:g}_b{a.beta:g}_e{a.epochs}"
    name += scenario_suffix(a.ir_cap, a.rare_party, a.rare_absent)
    name += (f"_p{a.patience}" if a.patience else "") + (
        f"_t{a.max_seconds:g}" if a.max_seconds else "")
    meta = {"dataset": a.dataset, "parties": a.parties, "size_ratio": a.size_ratio,
            "beta": a.beta, "ir_cap": a.ir_cap, "rare_party": a.rare_party,
            "rare_absent": a.rare_absent, "epochs": a.epochs, "seeds": a.seeds,
            "max_rows": a.max_rows, "device": a.device, "curve_every": a.curve_every,
            "ctgan_epochs": a.ctgan_epochs, "patience": a.patience,
            "max_seconds": a.max_seconds,
            "date": str(date.today()), "cores": os.cpu_count(),
            "command": "python scripts/benchmark.py "
                       + shlex.join(sys.argv[1:] if argv is None else argv)}
    refuse_tracked(a.out, [f"{name}.json", f"{name}.md", f"{name}*.png", f"{name}.jobs.jsonl"])
    a.out.mkdir(parents=True, exist_ok=True)
    partial = partial_path(name)  # never beside the outputs
    partial.parent.mkdir(parents=True, exist_ok=True)
    results = _run_jobs(jobs, a.jobs, meta, partial, started, a.out / f"{name}.jobs.jsonl")
    meta["wall_seconds"] = time.perf_counter() - started
    table = write_outputs(results, meta, a.out, name)
    sys.stdout.write(table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
