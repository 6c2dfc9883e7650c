"""The code location with remote parties (a federation file): definitions, the parties'
reports and summaries, training over gRPC with mutual TLS, the connection checks. Two tiny
parties, each a spawned process serving its own rows on 127.0.0.1."""

from __future__ import annotations

import socket

import dagster as dg
import pandas as pd
import pytest

from dagan_core.federation.remote.tls import make_certificates
from pipelines import settings
from pipelines.definitions import build_defs
from pipelines.federation_file import (
    FederationFileError,
    contract_fingerprint,
    write_federation,
)
from pipelines.resources.model_store import ModelStore
from tests.federation_pipeline.remote_helpers import OPENED, PartyProcesses

DEMO = settings.REPO_ROOT / "demo" / "landing"
ROWS = {"hospital_a": ("party_0", 120), "hospital_b": ("party_4", 60)}
REPORTS = {"hospital_a": {"rows_read": 123, "rows_validated": 120, "rows_quarantined": 3,
                          "contract_passed": True, "rule_failures": {"age: between": 3}},
           "hospital_b": {"rows_read": 60, "rows_validated": 60, "rows_quarantined": 0,
                          "contract_passed": True, "rule_failures": {}}}
TINY = {"epochs": 1, "batch_size": 60, "generator_dims": [16], "critic_dims": [16],
        "embedding_dim": 8, "pac": 2, "device": "cpu"}

pytestmark = pytest.mark.skipif(not DEMO.is_dir(), reason="demo data missing")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def federation(tmp_path_factory):
    """Two served parties and the coordinator's federation file; the landing folder the
    parties read from."""
    root = tmp_path_factory.mktemp("remote")
    certs = make_certificates(root / "certs", [*ROWS, "hospital_c"])
    csvs = {}
    for party, (demo_party, n) in ROWS.items():
        csvs[party] = root / "landing" / party / f"{party}.csv"
        csvs[party].parent.mkdir(parents=True)
        pd.read_csv(next((DEMO / demo_party).glob("*.csv")), nrows=n).to_csv(csvs[party],
                                                                              index=False)
    parties = PartyProcesses(certs, csvs, contract_fingerprint(settings.party_contract_path()),
                             REPORTS)
    path = write_federation(root / "federation.yaml", parties.endpoints, certs.coordinator.ca,
                            certs.coordinator.cert, certs.coordinator.key)
    down = write_federation(root / "with_c.yaml",
                            {**parties.endpoints, "hospital_c": f"127.0.0.1:{_free_port()}"},
                            certs.coordinator.ca, certs.coordinator.cert, certs.coordinator.key)
    yield {"file": path, "with_c": down, "landing": root / "landing", "root": root}
    parties.stop()


def test_definitions_load_in_remote_mode_from_a_federation_file(federation, monkeypatch):
    monkeypatch.setenv("DAGAN_FEDERATION_FILE", str(federation["file"]))
    defs = build_defs(settings.federation_file())
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"validated_party_table", "party_summary", "global_encoder", "dagan_model",
            "synthetic_table", "utility_metrics", "remote_party/hospital_a",
            "remote_party/hospital_b"} <= keys
    assert "raw_party_table" not in keys  # the parties ingest on their own hosts
    summary = graph.get(dg.AssetKey("party_summary"))
    assert summary.partitions_def.get_partition_keys() == list(ROWS)
    assert {s.name for s in defs.schedules} >= {"party_connections_schedule"}
    assert not any(s.name == "party_sensor" for s in defs.sensors)
    assert defs.resolve_job_def("party_reports_job") is not None
    with pytest.raises(FederationFileError, match="does not exist"):
        build_defs(federation["root"] / "missing.yaml")


def test_party_assets_and_model_materialize_over_the_wire(federation, tmp_path, monkeypatch):
    monkeypatch.setenv("DAGAN_VAR_DIR", str(tmp_path / "var"))
    defs = build_defs(federation["file"])
    assets = [defs.resolve_assets_def(k) for k in ("validated_party_table", "party_summary",
                                                    "global_encoder", "dagan_model")]
    # the assets come with the code location's resources (files under DAGAN_VAR_DIR)
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("model_versions", ["v1"])
    OPENED.watch(federation["landing"], settings.party_store_dir())
    try:
        for party in ROWS:
            result = dg.materialize(
                assets[:2], partition_key=party, instance=instance,
                run_config={"ops": {"party_summary": {"config": {"max_modes": 3}}}})
            (table,) = result.asset_materializations_for_node("validated_party_table")
            assert {k: table.metadata[k].value for k in REPORTS[party] if k in table.metadata
                    } == {k: v for k, v in REPORTS[party].items() if k.startswith("rows")}
            (check,) = result.get_asset_check_evaluations()
            assert check.passed and party in check.description
            summary = result.output_for_node("party_summary")
            assert summary["summary"]["n_rows"] == ROWS[party][1]
        result = dg.materialize(
            assets, selection=["global_encoder", "dagan_model"], partition_key="v1",
            instance=instance,
            run_config={"ops": {"dagan_model": {"config": TINY}}})
    finally:
        OPENED.watch()
    assert OPENED.opened == []
    assert result.success
    record = ModelStore().read_json("v1", "training_summary")
    assert record["remote"] and {p: v["rows"] for p, v in record["parties"].items()} == {
        p: n for p, (_, n) in ROWS.items()}
    (model,) = result.asset_materializations_for_node("dagan_model")
    assert model.metadata["history_summary"].value["bytes_exchanged"] > 0


def test_the_connection_check_names_an_unreachable_party(federation):
    defs = build_defs(federation["with_c"])
    result = defs.resolve_job_def("party_connections_job").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    checks = {e.asset_key.path[-1]: e for e in result.get_asset_check_evaluations()}
    assert set(checks) == {"hospital_a", "hospital_b", "hospital_c"}
    assert checks["hospital_a"].passed and checks["hospital_b"].passed
    assert checks["hospital_a"].metadata["state"].value == "reachable"
    assert checks["hospital_a"].metadata["contract_fingerprint_match"].value == "True"
    assert checks["hospital_a"].metadata["latency_ms"].value > 0
    down = checks["hospital_c"]
    assert not down.passed
    assert down.metadata["state"].value == "unreachable"
    assert down.description.startswith("party 'hospital_c' at 127.0.0.1:")
    assert "unreachable" in down.description


def test_only_gradient_casting_strategies_train_with_remote_parties():
    from pipelines.defs.remote.training import check_remote_config
    from pipelines.defs.training.config import TrainingConfig

    check_remote_config(TrainingConfig(strategy="mdgan"))
    with pytest.raises(dg.Failure, match="strategy 'fedsyn' cannot train with remote parties.*"
                       "use one of dagan, mdgan, swift"):
        check_remote_config(TrainingConfig(strategy="fedsyn"))
    with pytest.raises(dg.Failure, match="batched_critics='on'"):
        check_remote_config(TrainingConfig(batched_critics="on"))
