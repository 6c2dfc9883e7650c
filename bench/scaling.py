"""Scaling runs: time per training epoch as the number of parties and the number of rows grow.

Two sweeps on UCI Adult (read from ``--data-dir``); every point is a dual-imbalance scenario built
by :func:`bench.imbalance.build_scenario` (size ratio 20, Dirichlet beta 0.1 by default):

- ``parties``: K = 2, 5, 10, 20, 50 parties sharing the same rows: all 32,561 Adult training
  rows are dealt (timing needs no test set, so none is held out of them), so the total row
  count, and with it the generator steps per epoch, stays fixed while K grows.
- ``rows``: K = 5 parties holding 10k, 50k, 150k rows in total, drawn uniformly with replacement
  from the 32,561 Adult training rows (seeded). The columns and the encoded width are the same at
  every point and as in the parties sweep, so only the row count changes (Credit has 150k rows
  but 30 continuous columns, so a Credit sweep would change the table width as well).

A point whose smallest party would hold fewer than ``--min-party-rows`` rows (default 100: ten
PacGAN packs of 10) is built with the largest lower size ratio that gives every party that many;
the ratio used is recorded with the point.

Each strategy is fitted for ``warmup + epochs`` epochs; the warm-up epochs are left out of the
mean seconds per epoch (from ``history``; the wall clock between the ends of consecutive epochs
is recorded beside it, since fedsyn's ``history`` leaves its weight averaging out). ``ctgan`` is
the ``ctgan`` package's CTGAN on the pooled rows (imported lazily, skipped with a note when it
is not installed); its epoch times are taken at the end of each of its epochs. It ignores the
split into parties, so in the parties sweep it is a flat reference line. Peak RSS is the peak
resident memory of the process during the fit; every fit runs in a fresh spawned process unless
``--in-process`` is given (the peak is reset before each fit where Linux allows it). The log-log
slope of seconds per epoch against parties and against rows (``numpy.polyfit``) says whether
time grows at most linearly (slope <= 1).

Writes ``scaling.json``, ``scaling.md``, ``time_vs_parties.png`` and ``time_vs_rows.png`` to
``--out`` (default ``results/tmp/scaling``; see :mod:`bench.scaling_report`). Example::

    python scripts/scaling.py --strategies dagan mdgan --epochs 2
    dagan scaling --sweep parties --parties 2 5 10 --max-rows 5000      (small)
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from typing import Any

import numpy as np
import pandas as pd

from bench.imbalance import ScenarioConfig
from bench.memory import peak_rss_mb, reset_peak_rss
from bench.options import add_data_dir, add_out, refuse_tracked
from bench.run_info import run_info
from bench.scaling_report import markdown, plot_sweep, slopes
from bench.scenario import deal, training_rows
from dagan_core.config import STRATEGIES
from dagan_core.errors import ConfigError
from dagan_core.strategies import get_strategy

logger = logging.getLogger(__name__)

DATASET = "adult"
STRATEGY_CHOICES = (*STRATEGIES, "ctgan")


# ---------------------------------------------------------------------------------- helpers
def steps_per_epoch(strategy: str, sizes: list[int], batch_size: int) -> int:
    """Generator steps in one epoch: pooled rows // batch for the federated strategies and
    CTGAN, the sum over parties of rows // batch for the per-party GANs (local, fedsyn)."""
    if strategy in STRATEGIES and get_strategy(strategy).gan_per_party:
        return int(sum(max(1, n // batch_size) for n in sizes))
    return max(1, int(sum(sizes)) // batch_size)


def scenario_parties(
    train: pd.DataFrame, label: str, n_parties: int, size_ratio: float, beta: float,
    seed: int, min_party_rows: int,
) -> tuple[dict[str, pd.DataFrame], float]:
    """Deal all of ``train`` to ``n_parties`` parties; lower the size ratio where the smallest
    party would hold fewer than ``min_party_rows`` rows. Returns the parties and the ratio used.

    Raises:
        ConfigError: even equal sizes (ratio 1) leave a party under ``min_party_rows`` rows.
    """
    if len(train) // n_parties < min_party_rows:
        raise ConfigError(f"{len(train)} rows cannot give {n_parties} parties "
                          f"{min_party_rows} rows each (--min-party-rows)")
    lower = {max(1.0, float(np.floor(r * 100) / 100)) for r in np.geomspace(size_ratio, 1, 60)}
    for ratio in [size_ratio, *sorted(lower - {size_ratio}, reverse=True)]:
        parties, _ = deal(train, label, ScenarioConfig(
            n_parties=n_parties, size_ratio=ratio, dirichlet_beta=beta, seed=seed),
            train.iloc[:0])
        if min(len(d) for d in parties.values()) >= min_party_rows:
            return parties, ratio
    raise ConfigError(f"no size ratio gives {n_parties} parties {min_party_rows} rows each")


# ------------------------------------------------------------------------------------ fitting
def _fit_dagan_core(strategy: str, parties: dict[str, pd.DataFrame], label: str,
                    discrete: list[str], opts: argparse.Namespace) -> tuple[list[float],
                                                                           list[float]]:
    """Seconds of every epoch from ``history``, and wall seconds between the ends of
    consecutive epochs (one fewer: the first epoch's start is not observable)."""
    from dagan_core import make_synthesizer

    synth = make_synthesizer(strategy, epochs=opts.warmup + opts.epochs, seed=opts.seed,
                             device=opts.device, batch_size=opts.batch_size)
    ends: list[float] = []
    synth.fit(parties, label=label, discrete_columns=discrete,
              on_epoch_end=lambda _: ends.append(time.perf_counter()))
    return [float(h["seconds"]) for h in synth.history], list(np.diff(ends))


def _fit_ctgan(parties: dict[str, pd.DataFrame], label: str, discrete: list[str],
               opts: argparse.Namespace) -> list[float]:
    """Seconds of every epoch of CTGAN's training loop on the pooled rows."""
    from bench.ctgan_reference import fit_timed_ctgan

    pooled = pd.concat(list(parties.values()), ignore_index=True)
    # CTGAN transforms columns with joblib; threads instead of loky worker processes, which
    # outlive the fit and keep a spawned point's process from exiting until they time out
    _, _, epoch_seconds = fit_timed_ctgan(
        pooled, [*discrete, label], epochs=opts.warmup + opts.epochs, seed=opts.seed,
        use_gpu=_device(opts.device).type == "cuda", batch_size=opts.batch_size,
        backend="threading")
    return [float(s) for s in epoch_seconds]


def _device(name: str) -> Any:
    from dagan_core.synthesizers.base import resolve_device

    return resolve_device(name)


def time_point(strategy: str, parties: dict[str, pd.DataFrame], label: str, discrete: list[str],
               opts: argparse.Namespace) -> dict[str, Any]:
    """Fit one strategy on one scenario; seconds per epoch (warm-up left out), steps, memory."""
    import torch

    sizes = [len(d) for d in parties.values()]
    if strategy == "ctgan":
        try:
            import ctgan  # noqa: F401
        except ImportError:
            return {"strategy": strategy, "skipped": "the ctgan package is not installed"}
    device = _device(opts.device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    reset = reset_peak_rss()
    start = time.perf_counter()
    if strategy == "ctgan":
        seconds = walls = _fit_ctgan(parties, label, discrete, opts)
    else:
        seconds, walls = _fit_dagan_core(strategy, parties, label, discrete, opts)
        walls = [np.nan, *walls]
    fit_wall = time.perf_counter() - start
    timed = seconds[opts.warmup:]
    timed_walls = [float(w) for w in walls[opts.warmup:] if np.isfinite(w)]
    steps = steps_per_epoch(strategy, sizes, opts.batch_size)
    mean = float(np.mean(timed))
    out = {
        "strategy": strategy, "steps_per_epoch": steps, "epoch_seconds": timed,
        "warmup_seconds": seconds[:opts.warmup], "seconds_per_epoch": mean,
        "seconds_per_step": mean / steps, "epoch_wall_seconds": timed_walls,
        "wall_seconds_per_epoch": float(np.mean(timed_walls)) if timed_walls else None,
        "fit_wall_seconds": fit_wall,
        "peak_rss_mb": peak_rss_mb(),
        "peak_rss_scope": "fit" if reset else "process lifetime",
    }
    if device.type == "cuda":
        out["cuda_peak_allocated_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    return out


def _time_point_in_child(strategy: str, parties: dict[str, pd.DataFrame], label: str,
                         discrete: list[str], opts: argparse.Namespace) -> dict[str, Any]:
    import torch

    torch.set_num_threads(opts.threads)
    logging.basicConfig(level=logging.WARNING)
    return time_point(strategy, parties, label, discrete, opts)


def time_point_isolated(strategy: str, parties: dict[str, pd.DataFrame], label: str,
                        discrete: list[str], opts: argparse.Namespace) -> dict[str, Any]:
    """:func:`time_point` in a fresh (spawned) process, so that its peak RSS is this fit's
    alone and no allocation left by an earlier point is counted or reused."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1,
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_time_point_in_child, strategy, parties, label, discrete,
                           opts).result()


# ------------------------------------------------------------------------------------- sweeps
def _points(opts: argparse.Namespace) -> list[dict[str, Any]]:
    """Run the asked sweeps; one record per (sweep, point, strategy)."""
    table, train = training_rows(DATASET, opts.data_dir, opts.max_rows, opts.seed)
    label = table.label
    discrete = [c for c in table.discrete_columns if c != label]
    jobs: list[tuple[str, int, pd.DataFrame]] = []
    if opts.sweep in ("parties", "both"):
        jobs += [("parties", k, train) for k in opts.parties]
    if opts.sweep in ("rows", "both"):
        rng = np.random.default_rng(opts.seed)
        for n in opts.rows:
            drawn = train.iloc[rng.integers(0, len(train), size=n)].reset_index(drop=True)
            jobs.append(("rows", opts.rows_parties, drawn))
    records = []
    for i, (sweep, k, rows) in enumerate(jobs):
        parties, ratio = scenario_parties(rows, label, k, opts.size_ratio, opts.beta, opts.seed,
                                          opts.min_party_rows)
        sizes = [len(d) for d in parties.values()]
        if sum(sizes) != len(rows):
            raise ConfigError(f"the scenario dealt {sum(sizes)} of {len(rows)} rows")
        point = {"sweep": sweep, "n_parties": k, "rows": int(sum(sizes)), "size_ratio": ratio,
                 "size_ratio_lowered": ratio != opts.size_ratio,
                 "party_rows_min": min(sizes), "party_rows_max": max(sizes)}
        for strategy in opts.strategies:
            timer = time_point if opts.in_process else time_point_isolated
            result = {**point, **timer(strategy, parties, label, discrete, opts)}
            records.append(result)
            done = (f"{result['seconds_per_epoch']:.2f} s/epoch, "
                    f"{result['seconds_per_step'] * 1000:.1f} ms/step, "
                    f"peak RSS {result['peak_rss_mb']:.0f} MB"
                    if "skipped" not in result else f"skipped: {result['skipped']}")
            sys.stderr.write(f"[{i + 1}/{len(jobs)}] {sweep}: K={k}, {point['rows']} rows, "
                             f"ratio {ratio:g}, {strategy}: {done}\n")
            sys.stderr.flush()
    return records


# --------------------------------------------------------------------------------------- main
def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The flags of ``dagan scaling`` / ``scripts/scaling.py``."""
    p = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    p.add_argument("--sweep", choices=["parties", "rows", "both"], default="both")
    p.add_argument("--strategies", nargs="+", default=["dagan"], choices=STRATEGY_CHOICES,
                   metavar="STRATEGY", help=f"one or more of {', '.join(STRATEGY_CHOICES)} "
                   "(ctgan: the ctgan package's CTGAN on the pooled rows); default dagan")
    p.add_argument("--parties", nargs="+", type=int, default=[2, 5, 10, 20, 50],
                   help="party counts of the parties sweep")
    p.add_argument("--rows", nargs="+", type=int, default=[10_000, 50_000, 150_000],
                   help="total rows of the rows sweep (drawn with replacement from Adult)")
    p.add_argument("--rows-parties", type=int, default=5, help="K of the rows sweep")
    p.add_argument("--max-rows", type=int, default=None,
                   help="parties sweep and row source: a stratified subsample of this many "
                   "Adult training rows (default: all 32,561)")
    p.add_argument("--size-ratio", type=float, default=20.0)
    p.add_argument("--beta", type=float, default=0.1)
    p.add_argument("--min-party-rows", type=int, default=100,
                   help="lower the size ratio of a point until every party has this many rows")
    p.add_argument("--epochs", type=int, default=2, help="timed epochs per point")
    p.add_argument("--warmup", type=int, default=1, help="untimed warm-up epochs per point")
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=["cpu", "auto", "cuda"], default="cpu")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--in-process", action="store_true",
                   help="fit every point in this process (faster to start; its peak RSS then "
                   "includes what earlier points left allocated) instead of a fresh one each")
    add_data_dir(p, "--datasets")
    add_out(p, "scaling")
    return p


def main(argv: list[str] | None = None, prog: str = "python scripts/scaling.py") -> int:
    """Command-line entry point; returns the exit status."""
    import torch

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(prog)
    opts = parser.parse_args(argv)
    refuse_tracked(opts.out, ["scaling.json", "scaling.md", "time_vs_*.png"])
    if opts.epochs < 1 or opts.warmup < 0 or opts.batch_size < 2 or opts.threads < 1:
        parser.error("--epochs and --threads must be >= 1, --warmup >= 0, --batch-size >= 2")
    if min(opts.parties) < 1 or opts.rows_parties < 1 or min(opts.rows) < 1:
        parser.error("--parties, --rows-parties and --rows must be >= 1")
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(opts.threads)
    _device(opts.device)  # fail before any work when CUDA is asked for but absent
    started = time.perf_counter()
    records = _points(opts)
    fits = slopes(records)
    payload = {
        **run_info(prog, argv, vars(opts)),
        "points": records,
        "slopes": fits,
        "wall_seconds": time.perf_counter() - started,
    }
    opts.out.mkdir(parents=True, exist_ok=True)
    (opts.out / "scaling.json").write_text(json.dumps(payload, indent=1) + "\n")
    report = markdown(payload)
    (opts.out / "scaling.md").write_text(report)
    for sweep, x_key, xlabel in (("parties", "n_parties", "parties K (fixed total rows)"),
                                 ("rows", "rows", f"total rows (K={opts.rows_parties})")):
        plot_sweep(records, sweep, x_key, xlabel, fits, opts.out / f"time_vs_{sweep}.png")
    sys.stdout.write(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
