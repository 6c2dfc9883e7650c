"""The harder scenarios, by name: size ratio 100, 10 and 20 parties, an intra-party IR cap, the
rarest class held by one party, and parties without it.

Each entry is a list of :mod:`bench.benchmark` flags; the run's own flags (dataset, variants,
seeds, epochs, rows, jobs, device, output folder) are added to them. ``--print`` shows the
benchmark commands instead of running them::

    python scripts/harder_grid.py --list
    python scripts/harder_grid.py r100-k10 rare-one-party --print --seeds 0 1 2 --epochs 40
    python scripts/harder_grid.py rare-absent --variants dagan mdgan --seeds 0 --epochs 40 \\
        --max-rows 10000 --jobs 2 --out results/tmp/harder

The benchmark appends every finished (variant, seed) to ``--out``/NAME.jobs.jsonl at once, so a
run stopped by a wall-clock limit keeps what finished (``--merge`` turns such files into a
table).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from bench.options import REPO, default_out

BASE = ["--size-ratio", "100", "--beta", "0.1"]

GRID: dict[str, tuple[str, list[str]]] = {
    "r100-k10": ("10 parties, size ratio 100", ["--parties", "10", *BASE]),
    "r100-k20": ("20 parties, size ratio 100", ["--parties", "20", *BASE]),
    "ircap10": ("10 parties, size ratio 100, every party at least 10:1 inside",
                ["--parties", "10", *BASE, "--ir-cap", "10"]),
    "rare-one-party": ("10 parties, size ratio 100, the smallest party holds every row of the "
                       "rarest class", ["--parties", "10", *BASE, "--rare-party", "smallest"]),
    "rare-largest": ("10 parties, size ratio 100, the largest party holds every row of the "
                     "rarest class", ["--parties", "10", *BASE, "--rare-party", "largest"]),
    "rare-absent": ("10 parties, size ratio 100, the smallest party holds none of the rarest "
                    "class", ["--parties", "10", *BASE, "--rare-absent", "1"]),
    "rare-absent-half": ("10 parties, size ratio 100, the 5 smallest parties hold none of the "
                         "rarest class", ["--parties", "10", *BASE, "--rare-absent", "5"]),
}


def grid_args(name: str, run: argparse.Namespace, shown: bool = False) -> list[str]:
    """The benchmark's arguments for the grid entry ``name`` with the run's own flags
    (``shown``: ``--out`` relative to the repository when inside it, for a printed command).

    Raises:
        KeyError: ``name`` is no grid entry (the message lists the entries).
    """
    if name not in GRID:
        raise KeyError(f"no harder scenario {name!r}; the grid has {', '.join(GRID)}")
    args = ["--dataset", run.dataset, *GRID[name][1], "--epochs", str(run.epochs),
            "--seeds", *map(str, run.seeds), "--jobs", str(run.jobs),
            "--device", run.device, "--curve-every", str(run.curve_every),
            "--out", _shown(run.out) if shown else str(run.out)]
    if run.data_dir is not None:
        args += ["--data-dir", str(run.data_dir)]
    if run.variants:
        args += ["--variants", *run.variants]
    if run.max_rows is not None:
        args += ["--max-rows", str(run.max_rows)]
    return args


def _shown(path: Path) -> str:
    """``path`` relative to the repository when inside it (the commands run from its root)."""
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def command(args: list[str]) -> str:
    """The shell command that runs the benchmark with ``args``."""
    return "python scripts/benchmark.py " + shlex.join(args)


def _parser(prog: str | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*", metavar="NAME", help=f"grid entries: {', '.join(GRID)}")
    p.add_argument("--list", action="store_true", help="list the entries and their flags")
    p.add_argument("--print", action="store_true",
                   help="print each entry's benchmark command instead of running it")
    p.add_argument("--dataset", default="adult")
    p.add_argument("--variants", nargs="+", default=None,
                   help="the benchmark's variants (default: the benchmark's own default)")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--max-rows", type=int, default=None)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--device", choices=["cpu", "auto", "cuda"], default="cpu")
    p.add_argument("--curve-every", type=int, default=0, metavar="N",
                   help="utility curve every N epochs (default 0: off)")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="folder of the benchmark CSV files (default: the benchmark's)")
    p.add_argument("--out", type=Path, default=default_out("harder"),
                   help="output folder (default: results/tmp/harder)")
    return p


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """List the grid, print its commands, or run the named entries one after the other."""
    p = _parser(prog)
    a = p.parse_args(argv)
    if a.list:
        for name, (what, flags) in GRID.items():
            sys.stdout.write(f"{name}: {what}\n    {' '.join(flags)}\n")
        return 0
    if not a.names:
        p.error(f"name one or more grid entries ({', '.join(GRID)}), or --list")
    unknown = [n for n in a.names if n not in GRID]
    if unknown:
        p.error(f"unknown grid entry {', '.join(map(repr, unknown))}; the grid has "
                f"{', '.join(GRID)}")
    if a.print:
        sys.stdout.write("".join(command(grid_args(n, a, shown=True)) + "\n" for n in a.names))
        return 0
    runs = [grid_args(name, a) for name in a.names]
    from bench import benchmark

    for args in runs:
        sys.stderr.write(f"{command(args)}\n")
        if (code := benchmark.main(args)) != 0:
            return code
    return 0
