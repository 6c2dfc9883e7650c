"""The command line's errors: one line naming the step, party, file, column and value, exit
status 2; ``--verbose`` adds the traceback. Third-party set-up noise stays out of the output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from dagan_core.errors import InvalidDataError
from pipelines import cli, settings
from pipelines.console import StepError, error_line, root_error

DEMO = settings.REPO_ROOT / "demo"


def _failed_step(error: Exception) -> Exception:
    """What a real in-process Dagster run raises when an asset raises ``error``."""

    @dg.asset
    def breaks() -> None:
        raise error

    with dg.DagsterInstance.ephemeral() as instance, pytest.raises(Exception) as caught:
        dg.materialize([breaks], instance=instance)
    return caught.value


def test_a_failed_step_reads_as_one_line_naming_step_party_file_column_and_value() -> None:
    breach = InvalidDataError("table (file 'p0.csv') breaks contract 'party_table':\ncolumn "
                              "should hold a number", party="party_0", column="age", value="old")
    try:
        raise StepError("ingest party_0") from _failed_step(breach)
    except StepError as err:
        wrapped = err
    assert root_error(wrapped) is breach
    assert error_line("demo", wrapped) == (
        "dagan demo: ingest party_0: breaks: [party='party_0', column='age', value='old'] "
        "table (file 'p0.csv') breaks contract 'party_table': column should hold a number")


def test_other_errors_keep_their_type_and_long_ones_are_cut() -> None:
    line = error_line("sample", _failed_step(RuntimeError("disk\nfull")))
    assert line == "dagan sample: breaks: RuntimeError: disk full"
    long = error_line("demo", ValueError("x" * 5000))
    assert len(long) == 800 and long.endswith("…") and "\n" not in long


def test_verbose_adds_the_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["sample", "--version", "v", "--n", "0", "--out", str(tmp_path / "x.csv")]
    assert cli.main(args) == 2
    assert capsys.readouterr().err == "dagan sample: --n must be a positive number of rows\n"
    assert cli.main(["--verbose", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Traceback") and "CommandError" in err
    assert err.splitlines()[-1] == "dagan sample: --n must be a positive number of rows"


@pytest.mark.skipif(not (DEMO / "landing").is_dir(), reason="demo data missing")
def test_a_contract_failure_in_the_demo_is_one_line_and_exit_status_2(tmp_path: Path) -> None:
    """A real ``dagan demo`` process on a landing area whose first party breaks the contract."""
    source = pd.read_csv(next((DEMO / "landing" / "party_0").glob("*.csv")), nrows=40)
    for party in ("party_0", "party_1"):
        (tmp_path / "landing" / party).mkdir(parents=True)
    broken = source.astype({"age": object})
    broken.loc[:, "age"] = "old"
    broken.to_csv(tmp_path / "landing" / "party_0" / "p0.csv", index=False)
    source.to_csv(tmp_path / "landing" / "party_1" / "p1.csv", index=False)
    env = {**os.environ, "DAGAN_LANDING_DIR": str(tmp_path / "landing"),
           "DAGAN_VAR_DIR": str(tmp_path / "var"), "PYTHONPATH": str(settings.REPO_ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "demo", "--no-queries",
         "--dagster-home", str(tmp_path / "home")],
        cwd=settings.REPO_ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[-1] == (
        "dagan demo: ingest party_0: validated_party_table: [party='party_0', column='age'] "
        "table (file 'p0.csv') breaks contract 'party_table': column should hold a number, "
        "found values such as 'old'")
    everything = done.stdout + done.stderr
    for noise in ("Traceback", "Stack Trace", "ephemeral docs site", "STEP_FAILURE"):
        assert noise not in everything, everything
    assert len(lines) <= 3, done.stderr  # progress of the ingest step, then the error
