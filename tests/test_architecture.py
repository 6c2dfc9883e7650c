"""The shape of the code, enforced: import layers without circles, small functions and modules.

The import rules live in pyproject.toml (``[tool.importlinter]``): dagan_core imports nothing from
the pipeline, the tooling, Dagster, DuckDB or Great Expectations; no package imports in a circle.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ["dagan_core", "pipelines", "bench"]
MAX_MODULE_LINES = 350
MAX_COMPLEXITY = 15


def _tool(name: str) -> str:
    path = Path(sys.executable).with_name(name)
    found = str(path) if path.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed; it comes with the dev extra (make venv)")
    return found


def test_import_contracts_hold() -> None:
    done = subprocess.run([_tool("lint-imports"), "--no-cache"], cwd=REPO, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_no_function_is_too_complex() -> None:
    done = subprocess.run(
        [_tool("ruff"), "check", "--select", "C901", "--no-cache", *PACKAGES],
        cwd=REPO, capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stdout[-4000:]


def test_no_function_is_too_complex_by_radon() -> None:
    """Radon also counts boolean operators and comprehensions, which ruff's C901 does not."""
    done = subprocess.run([_tool("radon"), "cc", "-j", *PACKAGES], cwd=REPO,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    blocks = json.loads(done.stdout)

    def walk(items: list, path: str):
        for item in items:
            yield item["complexity"], f"{path}:{item['lineno']} {item['name']}"
            yield from walk(item.get("methods", []) + item.get("closures", []), path)

    too_complex = sorted(
        (found for path, items in blocks.items() if isinstance(items, list)
         for found in walk(items, path) if found[0] > MAX_COMPLEXITY),
        reverse=True,
    )
    assert too_complex == []


def test_no_module_is_too_long() -> None:
    long = {
        str(path.relative_to(REPO)): lines
        for package in PACKAGES
        for path in sorted((REPO / package).rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}
