"""What a measurement run records about itself: command, date, machine and settings."""

from __future__ import annotations

import os
import platform
from datetime import date
from pathlib import Path
from typing import Any

import torch


def run_info(prog: str, argv: list[str], settings: dict[str, Any]) -> dict[str, Any]:
    """The command line, today's date, the machine (cores, torch threads and versions) and the
    parsed settings (paths as strings), for the head of a result JSON."""
    return {
        "command": " ".join([prog, *argv]),
        "date": date.today().isoformat(),
        "machine": {"cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                    "torch": torch.__version__, "python": platform.python_version(),
                    "platform": platform.platform()},
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in settings.items()},
    }
