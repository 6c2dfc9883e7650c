"""``dagan party serve`` on loopback, driven through Dagster: each party validates its own files
and serves its critic in a process of its own; the remote-mode pipeline's model equals the
in-process fit on the same rows with the same encoder, and the coordinator opens no landing or
party file."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from dagan_core import load_synthesizer, make_synthesizer
from pipelines import cli, federated_demo, settings
from pipelines.contracts import model_columns
from pipelines.resources import PartyStore
from tests.federation_pipeline.remote_helpers import OPENED

DEMO = settings.REPO_ROOT / "demo" / "landing"
ROWS = {"party_0": 150, "party_4": 60}
TINY = {"batch_size": 60, "generator_dims": [16], "critic_dims": [16], "embedding_dim": 8,
        "pac": 2}

pytestmark = pytest.mark.skipif(not DEMO.is_dir(), reason="demo data missing")


def test_the_demo_drives_the_remote_pipeline_through_dagster(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    for party, n in ROWS.items():
        (landing / party).mkdir(parents=True)
        source = next((DEMO / party).glob("*.csv"))
        pd.read_csv(source, nrows=n).to_csv(landing / party / f"{party}.csv", index=False)
    work = tmp_path / "work"
    monkeypatch.setenv("DAGAN_VAR_DIR", str(work / "var"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    # the coordinator (this process) must open nothing under the landing area or party stores
    OPENED.watch(landing, work / "stores")
    try:
        result = federated_demo.run(landing, 1, work, TINY, summary={"max_modes": 3},
                                    evaluation={"max_rows": 500, "per_party": False})
    finally:
        OPENED.watch()
    assert OPENED.opened == []

    assert set(result["endpoints"]) == set(ROWS)
    assert all(c["passed"] and c["state"] == "reachable" for c in result["connections"].values())
    assert {p: r["rows_validated"] for p, r in result["parties"].items()} == ROWS
    assert result["synthetic_table"]["dagster/row_count"] == sum(ROWS.values())
    assert "tstr_macro_f1" in str(result["utility_metrics"]["summary"])
    # each party's own store (on its own host in a real federation)
    tables = {p: PartyStore(root=str(work / "stores" / p)).read_validated(p)
              for p in sorted(ROWS)}
    remote = load_synthesizer(result["dagan_model"]["checkpoint"])
    columns = model_columns()
    local = make_synthesizer("dagan", seed=0, device="cpu", epochs=1, max_modes=3, **TINY).fit(
        tables, label=columns.label, discrete_columns=list(columns.discrete_columns),
        encoder=remote.encoder)
    a, b = local.model.generators[0].state_dict(), remote.model.generators[0].state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_party_serve_names_a_missing_folder_in_one_line(tmp_path, capsys):
    status = cli.main(["party", "serve", "--party", "p", "--landing", str(tmp_path),
                       "--store", str(tmp_path / "store"), "--ca", "ca.pem", "--cert", "p.pem",
                       "--key", "p.key"])
    assert status == 2
    assert capsys.readouterr().err.strip().endswith(f"party 'p': no landing folder {tmp_path}/p")


def test_party_serve_refuses_plaintext_off_loopback_and_missing_certificates(tmp_path, capsys):
    base = ["party", "serve", "--party", "p", "--landing", str(tmp_path),
            "--store", str(tmp_path / "store")]
    assert cli.main([*base, "--listen", "0.0.0.0:7401", "--insecure-plaintext"]) == 2
    assert capsys.readouterr().err.strip().endswith(
        "--insecure-plaintext refused on 0.0.0.0:7401, which is not a loopback address (add "
        "--allow-remote-plaintext to force it)")
    assert cli.main([*base, "--ca", "ca.pem"]) == 2
    assert capsys.readouterr().err.strip().endswith("--cert, --key required (mutual TLS)")
