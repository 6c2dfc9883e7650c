"""The federation's set-up on the pipeline side: certificates, the federation file, a party's
own ingest."""

from __future__ import annotations

import json
import shutil

import pytest

from pipelines import cli, settings
from pipelines.federation.party_ingest import PartyIngestError, ingest_party
from pipelines.federation_file import (
    FederationFileError,
    read_federation,
)

DEMO = settings.REPO_ROOT / "demo" / "landing"


def test_certs_command_writes_certificates_and_a_federation_file(tmp_path, capsys):
    fed = tmp_path / "federation.yaml"
    status = cli.main(["certs", "--out", str(tmp_path / "certs"), "--parties", "a", "b",
                       "--federation-file", str(fed), "--endpoint", "a=127.0.0.1:7401",
                       "--endpoint", "b=10.0.0.12:7401"])

    assert status == 0
    written = json.loads(capsys.readouterr().out)
    assert set(written["parties"]) == {"a", "b"}
    federation = read_federation(fed)
    assert federation.parties == ["a", "b"]
    assert federation.endpoints == {"a": "127.0.0.1:7401", "b": "10.0.0.12:7401"}
    assert federation.cert.name == "coordinator.pem" and federation.key.is_file()
    assert (tmp_path / "certs" / "parties" / "a.key").stat().st_mode & 0o077 == 0  # private


def test_certs_command_refuses_bad_names_in_one_line(tmp_path, capsys):
    status = cli.main(["certs", "--out", str(tmp_path), "--parties", "a b"])
    assert status == 2
    assert "cannot be put in a certificate" in capsys.readouterr().err


def test_federation_file_names_what_is_missing(tmp_path):
    path = tmp_path / "federation.yaml"
    path.write_text("coordinator: {ca: ca.pem, cert: c.pem, key: c.key}\nparties: {a: {}}\n")
    with pytest.raises(FederationFileError, match="coordinator.ca .*ca.pem does not exist"):
        read_federation(path)
    for name in ("ca.pem", "c.pem", "c.key"):
        (tmp_path / name).write_text("x")
    with pytest.raises(FederationFileError, match="party 'a' needs an endpoint"):
        read_federation(path)


def test_federation_file_carries_the_party_lost_policy(tmp_path):
    for name in ("ca.pem", "c.pem", "c.key"):
        (tmp_path / name).write_text("x")
    path = tmp_path / "federation.yaml"
    base = "coordinator: {ca: ca.pem, cert: c.pem, key: c.key}\nparties: {a: {endpoint: 'h:1'}}\n"
    path.write_text(base)
    assert read_federation(path).on_party_lost == "fail"
    path.write_text(base + "on_party_lost: continue\n")
    federation = read_federation(path)
    assert federation.on_party_lost == "continue"
    assert federation.remote("sha256:x").on_party_lost == "continue"
    path.write_text(base + "on_party_lost: ignore\n")
    with pytest.raises(FederationFileError, match="on_party_lost must be 'fail' or 'continue', "
                                                  "got 'ignore'"):
        read_federation(path)


@pytest.mark.skipif(not DEMO.is_dir(), reason="demo data missing")
def test_a_party_ingests_its_own_files_with_the_pipeline_contract(tmp_path):
    landing = tmp_path / "landing"
    (landing / "p").mkdir(parents=True)
    source = next((DEMO / "party_4").glob("*.csv"))
    lines = source.read_text().splitlines()
    header, rows = lines[0], lines[1:201]
    bad = rows[0].split(",")
    bad[0] = "-5"  # age below the contract's minimum
    (landing / "p" / "p.csv").write_text("\n".join([header, ",".join(bad), *rows[1:]]) + "\n")

    report = ingest_party("p", landing, tmp_path / "store")

    assert (report.rows_read, report.rows_validated, report.rows_quarantined) == (200, 199, 1)
    assert report.contract_passed
    assert (tmp_path / "store" / "p" / "validated.parquet").is_file()


def test_a_party_without_its_folder_is_named(tmp_path):
    shutil.rmtree(tmp_path, ignore_errors=True)
    with pytest.raises(PartyIngestError, match="party 'p': no landing folder"):
        ingest_party("p", tmp_path / "landing", tmp_path / "store")
