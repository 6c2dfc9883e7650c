"""Bad input to every ``dagan`` command: one line on stderr naming the flag, file, party or value,
exit status 2, and nothing started (no worker, no training, no certificate)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines import cli

Capsys = pytest.CaptureFixture[str]


def _fails(capsys: Capsys, argv: list[str]) -> str:
    """Run ``dagan argv`` in this process; its single stderr line (exit status 2 asserted)."""
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    return err[:-1]


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    """A plain file, so that folders asked for under it cannot be made."""
    path = tmp_path / "plain"
    path.write_text("x")
    return path


# --------------------------------------------------------------------------------------- demo
def test_demo_unknown_dataset(capsys: Capsys) -> None:
    from pipelines.datasets import DATASET_FILE, DATASETS_DIR

    known = ", ".join(sorted(p.parent.name for p in DATASETS_DIR.glob(f"*/{DATASET_FILE}")))
    assert _fails(capsys, ["demo", "--dataset", "nope"]) == (
        f"dagan demo: dataset 'nope': no such dataset file or folder, and no "
        f"{DATASETS_DIR / 'nope' / DATASET_FILE} (datasets of the repository: {known})")


def test_demo_bad_numbers_are_refused_before_anything_runs(tmp_path: Path, capsys: Capsys) -> None:
    home = tmp_path / "home"
    assert _fails(capsys, ["demo", "--epochs", "0", "--dagster-home", str(home)]) == (
        "dagan demo: --epochs must be at least 1, got 0")
    assert _fails(capsys, ["demo", "--threads", "0", "--dagster-home", str(home)]) == (
        "dagan demo: --threads must be at least 1, got 0")
    assert not home.exists()


def test_demo_dagster_home_that_cannot_be_made(a_file: Path, capsys: Capsys) -> None:
    assert _fails(capsys, ["demo", "--dagster-home", str(a_file / "home")]) == (
        f"dagan demo: --dagster-home {a_file / 'home'}: cannot use it as the Dagster home "
        "(Not a directory)")


def test_demo_without_a_landing_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: Capsys) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGAN_LANDING_DIR", str(tmp_path / "landing"))
    monkeypatch.setenv("DAGAN_VAR_DIR", str(tmp_path / "var"))
    assert _fails(capsys, ["demo", "--dagster-home", str(tmp_path / "home")]) == (
        f"dagan demo: no party folder in the landing area {tmp_path / 'landing'} "
        "(set DAGAN_LANDING_DIR or select a dataset)")


# ------------------------------------------------------------------- bench, scaling, flops
def test_bench_unknown_dataset_and_missing_tables_stop_before_any_worker(
        tmp_path: Path, capsys: Capsys) -> None:
    out = ["--out", str(tmp_path / "out"), "--seeds", "0", "--epochs", "1", "--jobs", "1"]
    assert _fails(capsys, ["bench", "--dataset", "nope", *out]) == (
        "dagan bench: unknown benchmark 'nope'; valid names: adult, bank, covertype, credit, "
        "intrusion")
    assert _fails(capsys, ["bench", "--data-dir", str(tmp_path / "none"), *out]) == (
        f"dagan bench: benchmark file {tmp_path / 'none' / 'adult.csv'} not found")
    assert not (tmp_path / "out").exists()


def test_bench_missing_replot_and_merge_files(tmp_path: Path, capsys: Capsys) -> None:
    gone = tmp_path / "gone.json"
    assert _fails(capsys, ["bench", "--replot", str(gone)]) == (
        f"dagan bench: --replot {gone}: no such file")
    assert _fails(capsys, ["bench", "--merge", str(gone), "--out", str(tmp_path)]) == (
        f"dagan bench: --merge {gone}: no such file")


def test_bench_verbose_adds_the_traceback(tmp_path: Path, capsys: Capsys) -> None:
    assert cli.main(["--verbose", "bench", "--replot", str(tmp_path / "gone.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Traceback") and "FileNotFoundError" in err
    assert err.splitlines()[-1] == f"dagan bench: --replot {tmp_path / 'gone.json'}: no such file"


@pytest.mark.parametrize("tool", ["scaling", "flops"])
def test_scaling_and_flops_without_their_table(tool: str, tmp_path: Path,
                                               capsys: Capsys) -> None:
    argv = [tool, "--data-dir", str(tmp_path / "none"), "--out", str(tmp_path / "out")]
    if tool == "scaling":
        argv += ["--in-process", "--sweep", "parties", "--parties", "2"]
    assert _fails(capsys, argv) == (
        f"dagan {tool}: benchmark file {tmp_path / 'none' / 'adult.csv'} not found")


# -------------------------------------------------------------------------------- certs
def test_certs_bad_options_make_no_certificate(tmp_path: Path, capsys: Capsys) -> None:
    out = tmp_path / "certs"
    base = ["certs", "--out", str(out), "--parties", "a", "b"]
    assert _fails(capsys, [*base, "--days", "0"]) == "dagan certs: --days must be at least 1, got 0"
    assert _fails(capsys, [*base, "--endpoint", "a"]) == (
        "dagan certs: --endpoint 'a': expected PARTY=HOST:PORT")
    assert _fails(capsys, [*base, "--endpoint", "c=h:1"]) == (
        "dagan certs: --endpoint 'c=h:1': 'c' is not one of --parties")
    assert not out.exists()


def test_certs_folders_that_cannot_be_written(a_file: Path, tmp_path: Path,
                                              capsys: Capsys) -> None:
    assert _fails(capsys, ["certs", "--out", str(a_file / "certs"), "--parties", "a"]) == (
        f"dagan certs: --out {a_file / 'certs'}: cannot write the certificates there "
        "(Not a directory)")
    fed = a_file / "federation.yaml"
    assert _fails(capsys, ["certs", "--out", str(tmp_path / "certs"), "--parties", "a",
                           "--endpoint", "a=127.0.0.1:7401", "--federation-file", str(fed)]) == (
        f"dagan certs: --federation-file {fed}: cannot write it (Not a directory)")


# ------------------------------------------------------------------------------ contract
def test_contract_init_bad_numbers_and_out(a_file: Path, tmp_path: Path,
                                           capsys: Capsys) -> None:
    base = ["contract", "init", "--columns", "age:int,y:str", "--label", "y"]
    out = ["--out", str(tmp_path / "draft")]
    assert _fails(capsys, [*base, *out, "--max-categories", "-1"]) == (
        "dagan contract init: --max-categories must be 0 or more, got -1")
    assert _fails(capsys, [*base, *out, "--max-rows", "0"]) == (
        "dagan contract init: --max-rows must be at least 1, got 0")
    assert not (tmp_path / "draft").exists()
    assert _fails(capsys, [*base, "--out", str(a_file / "draft")]) == (
        f"dagan contract init: --out {a_file / 'draft'}: cannot write the draft there "
        "(Not a directory)")


# ---------------------------------------------------------------------------- party serve
def test_party_serve_missing_tls_file(tmp_path: Path, capsys: Capsys) -> None:
    (tmp_path / "landing" / "p1").mkdir(parents=True)
    pem = tmp_path / "none.pem"
    assert _fails(capsys, ["party", "serve", "--party", "p1", "--landing",
                           str(tmp_path / "landing"), "--store", str(tmp_path / "store"),
                           "--ca", str(pem), "--cert", str(pem), "--key", str(pem)]) == (
        f"dagan party serve: --ca {pem}: no such file")


def test_party_serve_unreadable_files_are_one_line(tmp_path: Path, capsys: Capsys) -> None:
    """A real ingest run that fails: the step and the reader's error, no Dagster log."""
    (tmp_path / "landing" / "p1").mkdir(parents=True)
    (tmp_path / "landing" / "p1" / "x.csv").write_text("age,y\n")
    assert _fails(capsys, ["party", "serve", "--party", "p1", "--landing",
                           str(tmp_path / "landing"), "--store", str(tmp_path / "store"),
                           "--insecure-plaintext", "--listen", "127.0.0.1:0"]) == (
        "dagan party serve: party 'p1': ingest failed: raw_party_table: "
        "dagan_core.errors.InvalidDataError: [party='p1'] file 'x.csv': has a header but no "
        "data rows")


# ------------------------------------------------------------------------ federation file
def test_a_federation_file_that_is_not_yaml_is_named(tmp_path: Path) -> None:
    from pipelines.console import error_line
    from pipelines.federation_file import FederationFileError, read_federation

    broken = tmp_path / "federation.yaml"
    broken.write_text("coordinator: [\n")
    with pytest.raises(FederationFileError) as caught:
        read_federation(broken)
    assert error_line("demo", caught.value) == (
        f"dagan demo: federation file {broken} is not valid YAML (line 2, column 1): "
        "expected the node content, but found '<stream end>'")
    broken.write_bytes(b"coordinator: \xff\n")
    with pytest.raises(FederationFileError, match=f"federation file {broken} cannot be read: "
                       "'utf-8' codec can't decode byte 0xff"):
        read_federation(broken)
