"""Compare DAGAN with its baselines on a dual-imbalance scenario of a real table.

For every seed: build the scenario (test set held out first), fit every variant for the same
number of epochs, sample as many rows as the parties hold, and score TSTR (mean of LR, DT, RF,
HistGB on the real test set), similarity, per-party detection AUC, DCR and membership-inference
AUC. Prints a Markdown table of mean ± std over seeds and writes JSON + Markdown.

Example::

    python scripts/benchmark.py --dataset adult --seeds 0 1 2 --epochs 30 --jobs 2
    dagan bench --dataset adult --seeds 0 1 2 --epochs 30 --jobs 2      (the same)

Each finished (variant, seed) writes one progress line to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent  # the repository (dagan_core/..)
DATASETS = REPO.parent / "shared" / "datasets"

# variant name -> (strategy, extra hyperparameters)
VARIANTS = {
    "dagan": ("dagan", {}),
    "dagan-no-local": ("dagan", {"local_attention": False}),
    "dagan-no-global": ("dagan", {"global_attention": False}),
    "dagan-rho0": ("dagan", {"global_rho": 0.0}),
    "dagan-balanced": ("dagan", {"global_rho": 0.0, "local_beta": 0.0}),
    "mdgan": ("mdgan", {}),
    "swift": ("swift", {}),
    "fedsyn": ("fedsyn", {}),
    "local": ("local", {}),
    "centralized": ("centralized", {}),
}


def held_out_split(table, max_rows: int | None, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold the real test set out first (official split, else a stratified 20 %), then
    optionally subsample the training rows (stratified) to ``max_rows``."""
    from sklearn.model_selection import train_test_split

    train, test = table.train, table.test
    if test is None:
        train, test = train_test_split(train, test_size=0.2, stratify=train[table.label],
                                       random_state=seed)
    if max_rows is not None and len(train) > max_rows:
        train, _ = train_test_split(train, train_size=max_rows, stratify=train[table.label],
                                    random_state=seed)
    return train.reset_index(drop=True), test.reset_index(drop=True)


def run_one(args: tuple) -> dict:
    """Fit and score one (variant, seed); runs in a worker process with one thread."""
    variant, seed, opts = args
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    with threadpool_limits(1):
        from dagan_core import make_synthesizer
        from dagan_core.metrics import ml_utility, privacy_report, similarity_report
        from dagan_core.scenarios import ScenarioConfig, build_scenario, load_benchmark

        table = load_benchmark(opts["dataset"], DATASETS)
        train, test = held_out_split(table, opts["max_rows"], seed)
        scenario = build_scenario(train, table.label, ScenarioConfig(
            n_parties=opts["parties"], size_ratio=opts["size_ratio"],
            dirichlet_beta=opts["beta"], ir_cap=opts["ir_cap"], seed=seed), test_df=test)
        parties = {p: d.reset_index(drop=True) for p, d in scenario.parties.items()}
        pooled = pd.concat([d.assign(party=p) for p, d in parties.items()], ignore_index=True)
        discrete = [c for c in table.discrete_columns if c != table.label]
        if variant == "trtr":
            synth_rows, history, fit_s = pooled, [], 0.0
        else:
            strategy, extra = VARIANTS[variant]
            synth = make_synthesizer(strategy, epochs=opts["epochs"], seed=seed, device="cpu",
                                     **extra)
            start = time.perf_counter()
            synth.fit(parties, label=table.label, discrete_columns=discrete)
            fit_s = time.perf_counter() - start
            history = synth.history
            t0 = time.perf_counter()
            synth_rows = synth.sample(len(pooled), seed=seed + 1000)
            sample_s = time.perf_counter() - t0
        all_discrete = [*discrete, table.label]
        util = ml_utility(synth_rows.drop(columns="party"), scenario.test, table.label,
                          all_discrete, seed=seed).mean
        out = {"variant": variant, "seed": seed, "fit_seconds": fit_s,
               **{f"tstr_{k}": v for k, v in util.items()}}
        if variant != "trtr":
            sim = similarity_report(pooled, synth_rows, all_discrete, label=table.label,
                                    detection=True, seed=seed)
            priv = privacy_report(pooled, synth_rows, scenario.test, all_discrete, seed=seed)
            out.update({
                "seconds_per_epoch": float(np.mean([h["seconds"] for h in history])),
                "bytes_per_epoch": float(np.mean([h["bytes_exchanged"] for h in history])),
                "sample_rows_per_s": len(pooled) / sample_s,
                "alpha_last": history[-1]["alpha"],
                "alpha_std_over_epochs": float(np.mean(np.std(
                    [list(h["alpha"].values()) for h in history], axis=0))),
                **{k: v for k, v in sim.items() if isinstance(v, float)},
                **{k: v for k, v in priv.items() if isinstance(v, float)},
            })
        return out


COLUMNS = [("tstr_macro_f1", "macro-F1"), ("tstr_minority_f1", "minority F1"),
           ("tstr_roc_auc", "ROC-AUC"), ("tstr_balanced_accuracy", "bal. acc."),
           ("detection_auc", "detect. AUC ↓"), ("jsd_mean", "JSD ↓"),
           ("wasserstein_mean", "WD ↓"), ("dcr_synth_p5", "DCR p5 synth"),
           ("dcr_holdout_p5", "DCR p5 holdout"), ("exact_copy_rate_synth", "copies"),
           ("mia_auc", "MIA AUC ↓"), ("seconds_per_epoch", "s/epoch"),
           ("bytes_per_epoch", "MB/epoch")]


def markdown(results: list[dict], header: str) -> str:
    """Mean ± std over seeds per variant."""
    df = pd.DataFrame(results)
    lines = [header, "", "| variant | " + " | ".join(n for _, n in COLUMNS) + " |",
             "|---" * (len(COLUMNS) + 1) + "|"]
    for variant, g in df.groupby("variant", sort=False):
        cells = []
        for key, _ in COLUMNS:
            if key not in g or g[key].isna().all():
                cells.append("–")
                continue
            v = g[key].astype(float)
            scale = 1e6 if key == "bytes_per_epoch" else 1
            cells.append(f"{v.mean() / scale:.3f} ± {v.std(ddof=0) / scale:.3f}")
        lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="adult")
    p.add_argument("--variants", nargs="+", default=["dagan", "mdgan", "swift", "fedsyn",
                                                     "local", "centralized"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--parties", type=int, default=5)
    p.add_argument("--size-ratio", type=float, default=20.0)
    p.add_argument("--beta", type=float, default=0.1)
    p.add_argument("--ir-cap", type=float, default=None)
    p.add_argument("--max-rows", type=int, default=None)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--out", type=Path, default=REPO / "results")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    opts = {k: getattr(a, k) for k in ("dataset", "epochs", "parties", "size_ratio", "beta",
                                       "ir_cap", "max_rows")}
    jobs = [(v, s, opts) for s in a.seeds for v in ["trtr", *a.variants]]
    started = time.perf_counter()
    name = f"{a.dataset}_K{a.parties}_r{a.size_ratio:g}_b{a.beta:g}_e{a.epochs}"
    a.out.mkdir(parents=True, exist_ok=True)
    results = []
    with ProcessPoolExecutor(max_workers=a.jobs) as pool:
        for result in pool.map(run_one, jobs):  # partial results survive an interruption
            results.append(result)
            sys.stderr.write(
                f"[{len(results)}/{len(jobs)}] {result['variant']} seed {result['seed']}: "
                f"TSTR macro-F1 {result.get('tstr_macro_f1', float('nan')):.3f}, "
                f"fit {result.get('fit_seconds', 0.0):.0f}s "
                f"({time.perf_counter() - started:.0f}s elapsed)\n"
            )
            (a.out / f"{name}.partial.json").write_text(json.dumps(results, default=float))
    (a.out / f"{name}.partial.json").unlink()
    header = (f"### {a.dataset}: K={a.parties}, size ratio {a.size_ratio:g}, Dirichlet β={a.beta:g}"
              f", IR cap {a.ir_cap}, {a.epochs} epochs, seeds {a.seeds} ({date.today()})\n\n"
              f"Command: `python scripts/benchmark.py {' '.join(argv or sys.argv[1:])}`; "
              f"wall {time.perf_counter() - started:.0f} s on {os.cpu_count()} cores.")
    table = markdown(results, header)
    (a.out / f"{name}.json").write_text(json.dumps(results, indent=1, default=float))
    (a.out / f"{name}.md").write_text(table + "\n")
    sys.stdout.write(table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
