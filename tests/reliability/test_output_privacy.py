"""Privacy of the released rows: the membership-inference audit, the synthetic_privacy asset check
of the evaluation asset and where the audit is reported (metrics.privacy, the benchmark table)."""

from __future__ import annotations

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from dagan_core.metrics import evaluate, membership_inference_audit, privacy_report
from pipelines.defs.evaluation.assets import utility_metrics
from pipelines.defs.training.reports import training_record
from pipelines.partitions import model_versions
from pipelines.resources.model_store import ModelStore
from pipelines.resources.party_store import PartyStore
from pipelines.resources.warehouse import Warehouse
from tests.conftest import make_party
from tests.pipelines.party_fixtures import adult_slice, needs_adult
from tests.pipelines.warehouse_writes import replace_partition

DISCRETE = ["color", "y"]


@pytest.fixture(scope="module")
def population():
    """Members (training rows), non-members and fresh rows, all from one distribution."""
    return make_party(300, 11, 0.3), make_party(300, 12, 0.3), make_party(300, 13, 0.3)


def test_audit_is_blind_without_memorisation_and_sees_copies(population):
    members, others, fresh = population

    copied = membership_inference_audit(members, others, members, DISCRETE, seed=0)
    independent = membership_inference_audit(members, others, fresh, DISCRETE, seed=0)
    half = pd.concat([members.iloc[:150], fresh.iloc[150:]], ignore_index=True)
    partial = membership_inference_audit(members, others, half, DISCRETE, seed=0)

    assert copied == {"mia_auc": 1.0, "mia_candidates": 300.0}
    assert 0.4 < independent["mia_auc"] < 0.6
    assert 0.65 < partial["mia_auc"] < 0.85  # half the members are copied: ~0.5 + 0.5 / 2
    assert membership_inference_audit(members, others, fresh, DISCRETE, seed=0) == independent


def test_audit_is_part_of_the_privacy_report(population):
    members, others, fresh = population
    report = privacy_report(members, fresh, others, DISCRETE, seed=0)
    assert report["mia_auc"] == membership_inference_audit(members, others, fresh, DISCRETE)[
        "mia_auc"
    ]


@needs_adult
def test_evaluation_asset_writes_the_audit_to_metrics_privacy():
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from pipelines.defs.evaluation.metrics_frames import evaluation_settings, metrics_tables

    real = pd.concat(
        [adult_slice(0, 200).assign(party="a"), adult_slice(200, 300).assign(party="b")],
        ignore_index=True,
    )
    synthetic = adult_slice(300, 600).assign(party=["a"] * 200 + ["b"] * 100)
    test = adult_slice(600, 900)
    discrete = ["workclass", "education", "marital-status", "occupation", "relationship", "race",
                "sex", "native-country", "income"]
    report = evaluate(real, synthetic, test, "income", discrete, models=["lr"])
    record = {"strategy": "dagan", "label": "income",
              "parties": {"a": {"class_counts": {}}, "b": {"class_counts": {}}}}

    config = SimpleNamespace(models=["lr"], max_rows=0, seed=0, detection=False)
    settings = evaluation_settings(record, config, {"real": 300, "synthetic": 300, "test": 300},
                                   "test.csv")
    tables = metrics_tables("v1", record, report, pd.DataFrame(columns=["column"]), synthetic,
                            datetime.now(UTC), settings)

    privacy = tables["privacy"].set_index("metric")
    assert 0.3 < privacy.loc["mia_auc", "value"] < 0.7
    assert privacy.loc["mia_auc", "direction"] == "minimize"


def test_benchmark_table_has_the_audit_column():
    from bench.report import markdown

    table = markdown([{"variant": "dagan", "seed": 0, "mia_auc": 0.52},
                      {"variant": "dagan", "seed": 1, "mia_auc": 0.54}], "header")
    header, _, row = table.splitlines()[2:5]
    column = header.split(" | ").index("MIA AUC ↓")
    assert row.split(" | ")[column] == "0.530 ± 0.010"


# --- the synthetic_privacy asset check ------------------------------------------------------

@pytest.fixture
def published(tmp_path, monkeypatch):
    """A model version's record, party stores and a warehouse, without training a model."""
    tables = {"a": adult_slice(0, 250), "b": adult_slice(250, 400)}
    parties = PartyStore(root=str(tmp_path / "parties"))
    for party, table in tables.items():
        parties.write_validated(party, table)
    models = ModelStore(root=str(tmp_path / "models"))
    discrete = ["workclass", "education", "marital-status", "occupation", "relationship", "race",
                "sex", "native-country", "income"]
    record = training_record({"strategy": "dagan"}, tables, "income", discrete, 1.0, [])
    models.write_json("v1", "training_summary", record)
    holdout = adult_slice(1000, 1400)
    holdout.to_csv(tmp_path / "holdout.csv", index=False)
    monkeypatch.setenv("DAGAN_TEST_SET", str(tmp_path / "holdout.csv"))
    warehouse = Warehouse(path=str(tmp_path / "wh.duckdb"))

    def publish(rows: pd.DataFrame) -> dg.ExecuteInProcessResult:
        """Publish ``rows`` as version v1's synthetic rows and evaluate them (which runs the
        check)."""
        @dg.asset(name="synthetic_table", partitions_def=model_versions)
        def controlled_rows(context, warehouse: Warehouse) -> None:
            frame = rows.assign(party="a", model_version=context.partition_key)
            replace_partition(warehouse, "rows", frame, "model_version", context.partition_key,
                                        schema="synthetic")

        with dg.DagsterInstance.ephemeral() as instance:
            instance.add_dynamic_partitions("model_versions", ["v1"])
            return dg.materialize(
                [controlled_rows, utility_metrics], partition_key="v1", instance=instance,
                resources={"model_store": models, "party_store": parties,
                           "warehouse": warehouse},
                run_config=dg.RunConfig(ops={"utility_metrics": {"config": {"models": ["lr"]}}}),
            )

    return tables, holdout, publish


@needs_adult
def test_privacy_check_warns_when_synthetic_rows_copy_training_rows(published):
    tables, _, publish = published
    leaky = pd.concat([tables["a"].iloc[:100], adult_slice(1500, 1600)], ignore_index=True)

    result = publish(leaky)

    assert result.success  # a warning never blocks
    (check,) = result.get_asset_check_evaluations()
    assert not check.passed and check.severity.value == "WARN"
    assert check.asset_key == utility_metrics.key and check.partition == "v1"
    assert check.blocking is False
    assert "closer to training rows than unseen real rows do" in check.description
    assert "50.00% of synthetic rows copy a training row exactly" in check.description
    meta = {k: v.value for k, v in check.metadata.items()}
    assert meta["exact_copy_rate_synth"] == 0.5 and meta["dcr_synth_p5"] == 0.0
    assert meta["mia_auc"] > 0.6 and meta["training_rows"] == 400


@needs_adult
def test_privacy_check_passes_rows_as_far_as_unseen_real_rows(published):
    _, holdout, publish = published

    result = publish(holdout)  # "synthetic" rows that are exactly as far as unseen rows

    (check,) = result.get_asset_check_evaluations()
    assert check.passed, check.description
    meta = {k: v.value for k, v in check.metadata.items()}
    assert meta["dcr_synth_p5"] == meta["dcr_holdout_p5"] > 0
    assert np.isclose(meta["exact_copy_rate_synth"], meta["exact_copy_rate_holdout"])


def test_the_test_set_has_one_source(tmp_path, monkeypatch):
    from pipelines.defs.evaluation.config import EvaluationConfig

    monkeypatch.setenv("DAGAN_TEST_SET", str(tmp_path / "from_env.csv"))
    assert EvaluationConfig().test_set_file() == tmp_path / "from_env.csv"
    configured = EvaluationConfig(test_set_path=str(tmp_path / "configured.parquet"))
    assert configured.test_set_file() == tmp_path / "configured.parquet"
