"""FLOPs of one DAGAN training epoch against what this machine's matmuls of those shapes do.

How close the epoch runs to what this machine's matrix multiplications can do.

On the Adult scenario (K=5, size ratio 20, Dirichlet beta 0.1, seed 0 by default; all 32,561
training rows dealt):

1. Fit DAGAN for ``warmup + epochs`` epochs through the public API; the mean seconds of the timed
   epochs (from ``history``) is the real epoch time. The trainer the fit built is kept.
2. With that trainer, count window A (``n`` steps + the per-epoch fit probe) and window B
   (``2n`` steps + the probe) under ``torch.utils.flop_counter.FlopCounterMode`` and a small
   dispatch mode that logs every matmul (mm, addmm, bmm, baddbmm) with its input shapes and
   strides. A's and B's matmul counts give the matmuls per step; B's log splits into its steps
   and the probe (the matmuls after the last step). FLOP/epoch = steps per epoch x FLOP/step +
   FLOP of the probe. FlopCounterMode counts matmul-like ops only (2·m·n·k each, the bias of
   addmm not counted); elementwise work is not in the count.
3. Replay exactly B's matmuls in plain torch (same ops, shapes, strides, dtype and order, random
   inputs, the same thread count); replay s/epoch = steps x replay s/step + replay s of the
   probe. Also time a large square matmul as a reference for the machine.
4. Report FLOP/epoch, the real s/epoch, the achieved GFLOP/s of the real epoch, the replay's
   GFLOP/s and the ratio real epoch time / replay time (the target is within 2x).

Writes ``flops.json`` and ``flops.md`` to ``--out`` (default ``results/tmp/speed``). Example::

    python scripts/flops.py
    dagan flops --max-rows 3000 --count-steps 2 --square-size 1024      (small)
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import asdict
from typing import Any

import torch

from bench.matmul_count import count, replay_seconds, shape_table, split_steps, square_gflops
from bench.options import add_data_dir, add_out, refuse_tracked
from bench.run_info import run_info
from bench.scenario import set_up

logger = logging.getLogger(__name__)

SHAPE_ROWS = 20  # matmul shapes listed in the Markdown report


# --------------------------------------------------------------------------------- measuring
def fitted_trainer(parties: dict, label: str, discrete: list[str],
                   opts: argparse.Namespace) -> tuple[Any, list[float]]:
    """Fit DAGAN for ``warmup + epochs`` epochs; the trainer the fit built (to count steps on)
    and the seconds of every epoch from ``history``.

    The fit runs step by step through ``begin_fit``, whose run holds the trainer it built.
    """
    from dagan_core import make_synthesizer

    synth = make_synthesizer("dagan", epochs=opts.warmup + opts.epochs, seed=opts.seed,
                             device=opts.device, batch_size=opts.batch_size)
    run = synth.begin_fit(parties, label=label, discrete_columns=discrete)
    while run.epochs_left:
        run.run_epoch()
    run.finish()
    return run.trainer, [float(h["seconds"]) for h in synth.history]


def measure(opts: argparse.Namespace) -> dict[str, Any]:
    """Fit, count, replay; the report's numbers (see the module docstring)."""
    from dagan_core.synthesizers.base import resolve_device

    device = resolve_device(opts.device)
    setup = set_up("adult", opts.data_dir, seed=opts.seed, max_rows=opts.max_rows,
                   n_parties=opts.parties, size_ratio=opts.size_ratio, beta=opts.beta)
    parties = setup.parties
    total = sum(len(d) for d in parties.values())
    steps = max(1, total // opts.batch_size)

    trainer, all_epochs = fitted_trainer(parties, setup.label, setup.discrete, opts)
    epoch_seconds = all_epochs[opts.warmup:]
    real_epoch = sum(epoch_seconds) / len(epoch_seconds)

    n = opts.count_steps
    _, calls_a = count(lambda: trainer.run_epoch(n))
    counted_b, calls_b = count(lambda: trainer.run_epoch(2 * n))
    step_calls, probe_calls, per_step = split_steps(calls_a, calls_b, n)
    log_b = sum(c.flops for c in calls_b)
    flop_step = sum(c.flops for c in step_calls) / (2 * n)
    flop_probe = sum(c.flops for c in probe_calls)
    flop_epoch = steps * flop_step + flop_probe

    replay_steps = replay_seconds(step_calls, device, opts.repeats) / (2 * n)
    replay_probe = replay_seconds(probe_calls, device, opts.repeats)
    replay_epoch = steps * replay_steps + replay_probe
    square = square_gflops(opts.square_size, device, opts.repeats)
    return {
        "scenario": {"dataset": "adult", "n_parties": opts.parties, "size_ratio": opts.size_ratio,
                     "beta": opts.beta, "seed": opts.seed, "rows": total,
                     "party_rows": {p: len(d) for p, d in parties.items()}},
        "steps_per_epoch": steps,
        "counted_steps": {"window_a": n, "window_b": 2 * n},
        "matmuls_per_step": per_step,
        "matmuls_in_probe": len(probe_calls),
        "flop_counter_window_b": counted_b,
        "matmul_log_window_b": log_b,
        "counter_matches_log": counted_b == log_b,
        "flop_per_step": flop_step,
        "flop_probe": flop_probe,
        "probe_share_of_epoch_flop": flop_probe / flop_epoch,
        "flop_per_epoch": flop_epoch,
        "epoch_seconds": epoch_seconds,
        "seconds_per_epoch": real_epoch,
        "achieved_gflops": flop_epoch / real_epoch / 1e9,
        "replay_seconds_per_step": replay_steps,
        "replay_seconds_probe": replay_probe,
        "replay_seconds_per_epoch": replay_epoch,
        "replay_gflops": flop_epoch / replay_epoch / 1e9,
        "square_matmul": {"n": opts.square_size, "gflops": square},
        "ratio_real_to_replay": real_epoch / replay_epoch,
        "within_2x": real_epoch / replay_epoch <= 2.0,
        "shapes": shape_table(step_calls, probe_calls, 2 * n),
        "calls_window_b": [asdict(c) for c in calls_b] if opts.keep_calls else None,
    }


def markdown(payload: dict[str, Any]) -> str:
    """The report: command and date, the headline numbers, the matmul shapes."""
    r, m, s = payload["result"], payload["machine"], payload["result"]["scenario"]
    verdict = "within" if r["within_2x"] else "not within"
    same = "equals" if r["counter_matches_log"] else "differs from"
    lines = [
        f"### FLOP count of one DAGAN epoch vs this machine's matmuls ({payload['date']})", "",
        f"Command: `{payload['command']}`", "",
        f"Adult, K={s['n_parties']}, size ratio {s['size_ratio']:g}, Dirichlet β={s['beta']:g}, "
        f"seed {s['seed']}: {s['rows']} rows, {r['steps_per_epoch']} steps/epoch, batch "
        f"{payload['settings']['batch_size']}; device {payload['settings']['device']}, "
        f"{m['torch_threads']} torch thread(s) on {m['cpu_count']} cores, torch {m['torch']}.",
        "",
        "| quantity | value |", "|---|---|",
        f"| matmul FLOP per step (FlopCounterMode) | {r['flop_per_step'] / 1e9:.4f} G |",
        f"| FLOP of the per-epoch fit probe | {r['flop_probe'] / 1e9:.4f} G "
        f"({r['probe_share_of_epoch_flop']:.1%} of the epoch) |",
        f"| **FLOP per epoch** | **{r['flop_per_epoch'] / 1e9:.2f} G** |",
        f"| measured s/epoch (mean of {len(r['epoch_seconds'])} real epoch(s)) | "
        f"{r['seconds_per_epoch']:.3f} |",
        f"| achieved GFLOP/s of the real epoch | {r['achieved_gflops']:.2f} |",
        f"| replay of the same matmuls: s/epoch | {r['replay_seconds_per_epoch']:.3f} |",
        f"| replay GFLOP/s (this workload's matmul limit) | {r['replay_gflops']:.2f} |",
        f"| square matmul {r['square_matmul']['n']}³ GFLOP/s (reference) | "
        f"{r['square_matmul']['gflops']:.2f} |",
        f"| **real epoch ÷ replay** | **{r['ratio_real_to_replay']:.2f}×** ({verdict} the 2× "
        "target) |",
        "",
        f"Counted: window A of {r['counted_steps']['window_a']} and window B of "
        f"{r['counted_steps']['window_b']} steps, each with the fit probe, after the warm-up; "
        f"{r['matmuls_per_step']} matmuls per step, {r['matmuls_in_probe']} in the probe. "
        f"FlopCounterMode's total of window B {same} the sum of 2·m·n·k over the logged "
        f"matmuls ({r['flop_counter_window_b']:,} vs "
        f"{r['matmul_log_window_b']:,}). Only matmuls are counted; elementwise work, optimizer "
        "updates and Python overhead are what the real epoch spends beyond the replay.",
    ]
    steps = r["steps_per_epoch"]
    rows = sorted(r["shapes"], key=lambda x: -(steps * x["per_step"] + x["in_probe"])
                  * x["flop_each"])
    lines += [
        "", f"#### Matmul shapes: the {min(len(rows), SHAPE_ROWS)} largest of {len(rows)} by "
        "FLOP per epoch (all of them in the JSON)", "",
        "| matmul | per step | in probe | MFLOP each | share of epoch FLOP |",
        "|---|---|---|---|---|",
    ]
    for row in rows[:SHAPE_ROWS]:
        share = (steps * row["per_step"] + row["in_probe"]) * row["flop_each"] / r[
            "flop_per_epoch"]
        lines.append(f"| `{row['matmul']}` | {row['per_step']:g} | {row['in_probe']} | "
                     f"{row['flop_each'] / 1e6:.3f} | {share:.1%} |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------- main
def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The flags of ``dagan flops`` / ``scripts/flops.py``."""
    p = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    p.add_argument("--parties", type=int, default=5)
    p.add_argument("--size-ratio", type=float, default=20.0)
    p.add_argument("--beta", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-rows", type=int, default=None,
                   help="a stratified subsample of this many Adult training rows (default all)")
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument("--warmup", type=int, default=1, help="untimed warm-up epochs")
    p.add_argument("--epochs", type=int, default=1, help="timed real epochs")
    p.add_argument("--count-steps", type=int, default=2,
                   help="n: windows of n and 2n steps are counted")
    p.add_argument("--repeats", type=int, default=3, help="replay / square runs (best kept)")
    p.add_argument("--square-size", type=int, default=2048)
    p.add_argument("--device", choices=["cpu", "auto", "cuda"], default="cpu")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--keep-calls", action="store_true",
                   help="also write every matmul of window B to the JSON")
    add_data_dir(p, "--datasets")
    add_out(p, "speed")
    return p


def main(argv: list[str] | None = None, prog: str = "python scripts/flops.py") -> int:
    """Command-line entry point; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(prog)
    opts = parser.parse_args(argv)
    refuse_tracked(opts.out, ["flops.json", "flops.md"])
    if min(opts.count_steps, opts.epochs, opts.repeats, opts.threads, opts.square_size) < 1 \
            or opts.warmup < 0 or opts.batch_size < 2:
        parser.error("--count-steps, --epochs, --repeats, --threads and --square-size must be "
                     ">= 1, --warmup >= 0, --batch-size >= 2")
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(opts.threads)
    started = time.perf_counter()
    result = measure(opts)
    payload = {
        **run_info(prog, argv, vars(opts)),
        "result": result,
        "wall_seconds": time.perf_counter() - started,
    }
    opts.out.mkdir(parents=True, exist_ok=True)
    (opts.out / "flops.json").write_text(json.dumps(payload, indent=1) + "\n")
    report = markdown(payload)
    (opts.out / "flops.md").write_text(report)
    sys.stdout.write(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
