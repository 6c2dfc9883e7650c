"""``dagan party serve`` on loopback: each party validates its own files and serves its critic in
a process of its own; the coordinator's model equals the in-process fit on the same rows."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from dagan_core import load_synthesizer, make_synthesizer
from pipelines import cli, federated_demo, settings
from pipelines.contracts import model_columns
from pipelines.resources import PartyStore

DEMO = settings.REPO_ROOT / "demo" / "landing"
ROWS = {"party_0": 150, "party_2": 80, "party_4": 60}
TINY = {"batch_size": 60, "generator_dims": [16], "critic_dims": [16], "embedding_dim": 8,
        "pac": 2, "max_modes": 3}

pytestmark = pytest.mark.skipif(not DEMO.is_dir(), reason="demo data missing")


def test_served_parties_train_the_in_process_model(tmp_path):
    landing = tmp_path / "landing"
    for party, n in ROWS.items():
        (landing / party).mkdir(parents=True)
        source = next((DEMO / party).glob("*.csv"))
        pd.read_csv(source, nrows=n).to_csv(landing / party / f"{party}.csv", index=False)

    result = federated_demo.run(landing, 1, tmp_path / "work", TINY)

    assert set(result["parties"]) == set(ROWS)
    assert {"Handshake", "PartyHello", "Setup", "SetupDone", "GeneratorFeedback"} <= set(
        result["bytes_by_type"])
    # each party's own store (on its own host in a real federation)
    tables = {p: PartyStore(root=str(tmp_path / "work" / "stores" / p)).read_validated(p)
              for p in sorted(ROWS)}
    columns = model_columns()
    local = make_synthesizer("dagan", seed=0, device="cpu", epochs=1, **TINY).fit(
        tables, label=columns.label, discrete_columns=list(columns.discrete_columns))
    remote = load_synthesizer(result["model"])
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
