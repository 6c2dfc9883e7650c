"""The benchmark's command-line flags and their checks (before any worker starts)."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

from bench.ctgan_reference import INSTALL_HINT
from bench.options import add_data_dir, add_out, add_rare_flags
from bench.variants import EXTERNAL_VARIANTS, VARIANTS
from dagan_core.strategies import strategy_names

DESCRIPTION = "Compare DAGAN with its baselines on a dual-imbalance scenario of a real table."


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=DESCRIPTION)
    p.add_argument("--dataset", default="adult")
    p.add_argument("--variants", nargs="+", default=list(strategy_names()),
                   help=f"any of {', '.join([*VARIANTS, *EXTERNAL_VARIANTS])}")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=30,
                   help="epochs of each fit (the maximum, with --patience or --max-seconds)")
    p.add_argument("--patience", type=int, default=0,
                   help="the library's variants stop after this many epochs without a better "
                        "held-out fit score and keep their best epoch (0: every epoch)")
    p.add_argument("--max-seconds", type=float, default=None,
                   help="the library's variants stop at the end of the epoch that reaches this "
                        "many seconds of training")
    p.add_argument("--ctgan-epochs", type=int, nargs="+", metavar="N",
                   help="epochs of the ctgan variant (default: --epochs); another value names "
                        "its results ctgan-Nep; several values fit it once for each (its "
                        "time-to-quality points)")
    p.add_argument("--parties", type=int, default=5)
    p.add_argument("--size-ratio", type=float, default=20.0)
    p.add_argument("--beta", type=float, default=0.1)
    p.add_argument("--ir-cap", type=float, default=None)
    add_rare_flags(p)
    p.add_argument("--max-rows", type=int, default=None)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--device", choices=["cpu", "auto", "cuda"], default="cpu",
                   help="torch device of every variant (auto: CUDA when present)")
    p.add_argument("--curve-every", type=int, default=5, metavar="N",
                   help="utility curve every N epochs and at the last (0: off)")
    add_data_dir(p, "--datasets-dir")
    add_out(p)
    p.add_argument("--merge", type=Path, nargs="+", metavar="JSON",
                   help="merge result JSONs of one scenario (other seeds or variants, run "
                        "elsewhere) into --out as NAME.json/.md/.png; no training")
    p.add_argument("--name", help="file name stem of --merge's outputs")
    p.add_argument("--replot", type=Path, metavar="JSON",
                   help="only re-render the Markdown and plots of an existing result JSON "
                        "(written next to it); no training")
    return p


def check_args(p: argparse.ArgumentParser, a: argparse.Namespace) -> None:
    unknown = [v for v in a.variants if v not in VARIANTS and v not in EXTERNAL_VARIANTS]
    if unknown:
        p.error(f"unknown variant(s) {unknown}; valid: {', '.join([*VARIANTS, 'ctgan'])}")
    if "ctgan" in a.variants and importlib.util.find_spec("ctgan") is None:
        p.error(f"variant ctgan needs the ctgan package: {INSTALL_HINT}")
    if a.curve_every < 0 or a.epochs < 1 or a.jobs < 1 or a.patience < 0 or (
            a.ctgan_epochs is not None and min(a.ctgan_epochs) < 1) or (
            a.max_seconds is not None and a.max_seconds <= 0):
        p.error("--curve-every and --patience must be >= 0, --epochs, --ctgan-epochs and "
                "--jobs >= 1, --max-seconds > 0")
    _check_scenario(p, a)
    _resolve_device(p, a)


def _check_scenario(p: argparse.ArgumentParser, a: argparse.Namespace) -> None:
    """Refuse bad scenario flags before any worker starts, naming the value."""
    from bench.imbalance import ScenarioConfig
    from dagan_core.errors import ConfigError

    try:
        ScenarioConfig(n_parties=a.parties, size_ratio=a.size_ratio, dirichlet_beta=a.beta,
                       ir_cap=a.ir_cap, rare_party=a.rare_party, rare_absent=a.rare_absent)
    except ConfigError as exc:
        p.error(f"--parties/--size-ratio/--beta/--ir-cap/--rare-party/--rare-absent: {exc}")


def _resolve_device(p: argparse.ArgumentParser, a: argparse.Namespace) -> None:
    """Refuse ``cuda`` without a CUDA device; resolve ``auto`` once, so that every job and the
    header agree."""
    if a.device not in ("cuda", "auto"):
        return
    import torch

    if a.device == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda: no CUDA device is available to torch")
    if a.device == "auto":
        a.device = "cuda" if torch.cuda.is_available() else "cpu"
