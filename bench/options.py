"""Flags and default paths every measurement tool shares: the datasets folder and the output
folder.

The datasets folder is ``--data-dir``; its default is the ``DAGAN_DATASETS_DIR`` environment
variable, else ``../shared/datasets`` next to the repository. Outputs go under ``results/tmp/`` by
default, so a run never overwrites the committed result files; ``--out`` names another folder.
"""

from __future__ import annotations

import argparse
import os
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
