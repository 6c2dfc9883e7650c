"""Counting and replaying matmuls: which mm / addmm / bmm / baddbmm a piece of torch code
dispatches (shapes, strides, dtype), their FLOPs as ``FlopCounterMode`` counts them, and how fast
this machine runs exactly those matmuls on random inputs."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

from dagan_core.errors import DAGANError

MATMUL_OPS = ("mm", "addmm", "bmm", "baddbmm")
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
