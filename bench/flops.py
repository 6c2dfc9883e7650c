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

Writes ``flops.json`` and ``flops.md`` to ``--out`` (default ``results/speed``). Example::

    python scripts/flops.py
    dagan flops --max-rows 3000 --count-steps 2 --square-size 1024      (small)
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

from dagan_core.benchmark import DATASETS, REPO, held_out_split
from dagan_core.errors import DAGANError
from dagan_core.run_info import run_info

logger = logging.getLogger(__name__)

MATMUL_OPS = ("mm", "addmm", "bmm", "baddbmm")
SHAPE_ROWS = 20  # matmul shapes listed in the Markdown report
_REPLAY_FN = {"mm": torch.mm, "addmm": torch.addmm, "bmm": torch.bmm, "baddbmm": torch.baddbmm}


@dataclass(frozen=True)
class MatmulCall:
    """One matmul as dispatched: op name, and shape and stride of each tensor input."""

    op: str
    shapes: tuple[tuple[int, ...], ...]
    strides: tuple[tuple[int, ...], ...]
    dtype: str

    @property
    def flops(self) -> int:
        """2·m·n·k (times the batch for bmm / baddbmm), as FlopCounterMode counts it."""
        a, b = self.shapes[-2], self.shapes[-1]
        batch = a[0] if len(a) == 3 else 1
        return 2 * batch * a[-2] * a[-1] * b[-1]

    def label(self) -> str:
        """``addmm 250x880 @ 880x256`` (the operand shapes, the bias left out)."""
        a, b = self.shapes[-2], self.shapes[-1]
        return f"{self.op} {'x'.join(map(str, a))} @ {'x'.join(map(str, b))}"


class MatmulLog(TorchDispatchMode):
    """Logs every mm / addmm / bmm / baddbmm that runs inside it (``calls``)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[MatmulCall] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: D105
        name = func.overloadpacket.__name__
        if name in MATMUL_OPS:
            tensors = [a for a in args if isinstance(a, torch.Tensor)]
            self.calls.append(MatmulCall(
                name, tuple(tuple(t.shape) for t in tensors),
                tuple(tuple(t.stride()) for t in tensors), str(tensors[0].dtype)))
        return func(*args, **(kwargs or {}))


class _GlobalOnly:
    """Stands in for FlopCounterMode's module tracker, whose backward hooks break
    ``torch.autograd.grad`` on leaf inputs (the critics' gradient penalty and the gradients cast
    to the generator; pytorch/pytorch#131753). Every FLOP is counted under "Global"."""

    parents = frozenset({"Global"})

    def __enter__(self) -> _GlobalOnly:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def count(fn: Callable[[], Any]) -> tuple[int, list[MatmulCall]]:
    """Run ``fn`` once; FlopCounterMode's total and the matmuls it dispatched."""
    counter = FlopCounterMode(display=False)
    counter.mod_tracker = _GlobalOnly()
    with counter, MatmulLog() as log:
        fn()
    return int(counter.get_total_flops()), log.calls


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _strided_randn(shape: tuple[int, ...], stride: tuple[int, ...], dtype: torch.dtype,
                   device: torch.device, gen: torch.Generator) -> torch.Tensor:
    """A random tensor with exactly this shape and these strides."""
    size = 1 + sum((n - 1) * s for n, s in zip(shape, stride)) if all(shape) else 0
    base = torch.randn(size, dtype=dtype, device=device, generator=gen)
    return base.as_strided(shape, stride)


def replay_seconds(calls: list[MatmulCall], device: torch.device, repeats: int = 3) -> float:
    """Seconds to run these matmuls in order on random inputs (best of ``repeats`` after one
    untimed pass); inputs of one signature are made once and reused."""
    if not calls:
        return 0.0
    gen = torch.Generator(device=device)
    gen.manual_seed(0)
    made: dict[tuple, tuple[torch.Tensor, ...]] = {}
    program = []
    for c in calls:
        key = (c.shapes, c.strides, c.dtype)
        if key not in made:
            dtype = getattr(torch, c.dtype.removeprefix("torch."))
            made[key] = tuple(_strided_randn(s, st, dtype, device, gen)
                              for s, st in zip(c.shapes, c.strides))
        program.append((_REPLAY_FN[c.op], made[key]))

    def once() -> None:
        for fn, args in program:
            fn(*args)

    once()
    best = float("inf")
    for _ in range(max(1, repeats)):
        _sync(device)
        start = time.perf_counter()
        once()
        _sync(device)
        best = min(best, time.perf_counter() - start)
    return best


def square_gflops(n: int, device: torch.device, repeats: int = 3) -> float:
    """GFLOP/s of an n x n x n float32 matmul (best of ``repeats`` after one untimed run)."""
    gen = torch.Generator(device=device)
    gen.manual_seed(0)
    a = torch.randn(n, n, device=device, generator=gen)
    b = torch.randn(n, n, device=device, generator=gen)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(max(1, repeats)):
        _sync(device)
        start = time.perf_counter()
        torch.mm(a, b)
        _sync(device)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def split_steps(calls_a: list[MatmulCall], calls_b: list[MatmulCall],
                n: int) -> tuple[list[MatmulCall], list[MatmulCall], int]:
    """Split window B (2n steps + probe) into its steps' matmuls and the probe's, using window A
    (n steps + probe). Returns (step matmuls of B, probe matmuls of B, matmuls per step).

    Raises:
        DAGANError: the windows do not look like "the same matmuls every step, then a probe".
    """
    per_step, rest = divmod(len(calls_b) - len(calls_a), n)
    probe = len(calls_a) - n * per_step
    if rest or per_step <= 0 or probe < 0 or len(calls_b) != 2 * n * per_step + probe:
        raise DAGANError(f"cannot split {len(calls_a)} / {len(calls_b)} matmuls of {n} / {2 * n} "
                         "steps into equal steps and one fit probe")
    steps = calls_b[: 2 * n * per_step]
    ops = [c.op for c in steps]
    if any(ops[i * per_step:(i + 1) * per_step] != ops[:per_step] for i in range(2 * n)):
        raise DAGANError("the steps of the counted window do not run the same matmuls")
    return steps, calls_b[2 * n * per_step:], per_step


def shape_table(step_calls: list[MatmulCall], probe_calls: list[MatmulCall],
                n_steps: int) -> list[dict[str, Any]]:
    """Distinct matmul shapes: mean calls per step, calls in the probe, FLOP of one call."""
    steps = Counter(c.label() for c in step_calls)
    probe = Counter(c.label() for c in probe_calls)
    flops = {c.label(): c.flops for c in [*step_calls, *probe_calls]}
    return [{"matmul": k, "per_step": steps[k] / n_steps, "in_probe": probe[k],
             "flop_each": flops[k]} for k in dict.fromkeys([*steps, *probe])]


# --------------------------------------------------------------------------------- measuring
def measure(opts: argparse.Namespace) -> dict[str, Any]:
    """Fit, count, replay; the report's numbers (see the module docstring)."""
    from dagan_core import make_synthesizer
    from dagan_core.scenarios import ScenarioConfig, build_scenario, load_benchmark
    from dagan_core.synthesizers.base import resolve_device

    device = resolve_device(opts.device)
    table = load_benchmark("adult", opts.datasets)
    train, test = held_out_split(table, opts.max_rows, opts.seed)
    scenario = build_scenario(train, table.label, ScenarioConfig(
        n_parties=opts.parties, size_ratio=opts.size_ratio, dirichlet_beta=opts.beta,
        seed=opts.seed), test_df=test)
    parties = {p: d.reset_index(drop=True) for p, d in scenario.parties.items()}
    discrete = [c for c in table.discrete_columns if c != table.label]
    total = sum(len(d) for d in parties.values())
    steps = max(1, total // opts.batch_size)

    synth = make_synthesizer("dagan", epochs=opts.warmup + opts.epochs, seed=opts.seed,
                             device=opts.device, batch_size=opts.batch_size)
    kept: dict[str, Any] = {}
    make_trainer = synth._make_trainer  # keep the trainer the fit builds, to count steps on

    def keep_trainer(encoded: Any, seeds: Any) -> Any:
        kept["trainer"] = make_trainer(encoded, seeds)
        return kept["trainer"]

    synth._make_trainer = keep_trainer
    synth.fit(parties, label=table.label, discrete_columns=discrete)
    epoch_seconds = [float(h["seconds"]) for h in synth.history[opts.warmup:]]
    real_epoch = sum(epoch_seconds) / len(epoch_seconds)
    trainer = kept["trainer"]

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
    p.add_argument("--datasets", type=Path, default=DATASETS)
    p.add_argument("--out", type=Path, default=REPO / "results" / "speed")
    return p


def main(argv: list[str] | None = None, prog: str = "python scripts/flops.py") -> int:
    """Command-line entry point; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(prog)
    opts = parser.parse_args(argv)
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
