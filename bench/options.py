"""Flags and default paths every measurement tool shares: the datasets folder and the output
folder.

The datasets folder is ``--data-dir``; its default is the ``DAGAN_DATASETS_DIR`` environment
variable, else ``../shared/datasets`` next to the repository. Outputs go under ``results/tmp/`` by
default, so a run never overwrites the committed result files; ``--out`` names another folder,
and :func:`refuse_tracked` stops a run before it starts if that folder holds committed files of
the names it would write.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import subprocess
from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent  # the repository (bench/..)
DATA_DIR_ENV = "DAGAN_DATASETS_DIR"


def default_data_dir() -> Path:
    """``$DAGAN_DATASETS_DIR``, else ``../shared/datasets`` relative to the repository."""
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env) if env else REPO.parent / "shared" / "datasets"


def default_out(*parts: str) -> Path:
    """``results/tmp/<parts>`` in the repository."""
    return REPO.joinpath("results", "tmp", *parts)


def add_data_dir(p: argparse.ArgumentParser, *aliases: str) -> None:
    """Add ``--data-dir`` (and older spellings of it in ``aliases``) as ``data_dir``."""
    p.add_argument("--data-dir", *aliases, dest="data_dir", type=Path, default=default_data_dir(),
                   help=f"folder of the benchmark CSV files (default: ${DATA_DIR_ENV}, else "
                        "../shared/datasets next to the repository)")


def add_out(p: argparse.ArgumentParser, *parts: str) -> None:
    """Add ``--out`` with the default ``results/tmp/<parts>``."""
    where = "/".join(["results", "tmp", *parts])
    p.add_argument("--out", type=Path, default=default_out(*parts),
                   help=f"output folder (default: {where})")


RARE_PARTY_CHOICES = ("smallest", "largest")


def add_rare_flags(p: argparse.ArgumentParser) -> None:
    """Add ``--rare-party`` and ``--rare-absent`` (see :class:`bench.imbalance.ScenarioConfig`)."""
    p.add_argument("--rare-party", choices=RARE_PARTY_CHOICES, default=None,
                   help="give every training row of the rarest label class (binary: the "
                        "minority label) to this party (by target size); the other classes keep "
                        "their deal")
    p.add_argument("--rare-absent", type=int, default=0, metavar="N",
                   help="the N parties of smallest target size hold no row of the rarest class "
                        "(0 <= N < --parties; not with --rare-party)")


def scenario_suffix(ir_cap: float | None, rare_party: str | None, rare_absent: int) -> str:
    """The end of a result name that tells the harder scenarios apart: ``_ir10`` (``--ir-cap
    10``), ``_rare-smallest`` / ``_rare-largest`` (``--rare-party``), ``_rare-absent3``
    (``--rare-absent 3``); empty without them."""
    suffix = f"_ir{ir_cap:g}" if ir_cap is not None else ""
    if rare_party:
        suffix += f"_rare-{rare_party}"
    if rare_absent:
        suffix += f"_rare-absent{rare_absent}"
    return suffix


def partial_path(name: str) -> Path:
    """Where a run keeps its results so far: ``results/tmp/partial/<name>.partial.json``, never
    beside the outputs (which may sit next to committed files)."""
    return default_out("partial") / f"{name}.partial.json"


def tracked_files(folder: Path) -> list[str]:
    """Names of the files directly in ``folder`` that git tracks (none outside the repository or
    without git)."""
    folder = folder.resolve()
    if REPO.resolve() not in (folder, *folder.parents):
        return []
    try:
        listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "--", str(folder)],
                                capture_output=True, check=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    paths = [REPO / p for p in listed.decode().split("\0") if p]
    return sorted(p.name for p in paths if p.resolve().parent == folder)


def refuse_tracked(out: Path, patterns: Iterable[str]) -> None:
    """Stop before measuring if the run would overwrite committed files in ``out``.

    Raises:
        FileExistsError: naming the committed files and what to do instead.
    """
    names = tracked_files(out)
    hit = sorted({n for n in names for pattern in patterns if fnmatch.fnmatch(n, pattern)})
    if hit:
        raise FileExistsError(
            f"--out {out} holds committed results this run would overwrite ({', '.join(hit)}); "
            f"write to another folder (default: results/tmp/...) and copy what you want to keep")
