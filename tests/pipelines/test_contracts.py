"""The committed data contracts and the GX runner that executes them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from party_fixtures import ADULT, adult_slice, needs_adult

from pipelines import contracts, settings
from tests.pipelines.contract_helpers import load_suite, validate_frame

SUITES = sorted((Path(__file__).resolve().parents[2] / "data_contracts" / "suites").glob("*.json"))


def test_there_is_a_party_table_contract():
    assert settings.party_contract_path() in SUITES


@pytest.mark.parametrize("path", SUITES, ids=[p.stem for p in SUITES])
def test_every_suite_parses_into_a_gx_suite(path):
    from great_expectations.core import ExpectationSuite

    raw = json.loads(path.read_text())
    suite = load_suite(path)

    assert isinstance(suite, ExpectationSuite)
    assert suite.name == raw["name"]
    assert len(suite.expectations) == len(raw["expectations"])
    assert {e.meta["level"] for e in suite.expectations} == {"schema", "row"}


@pytest.mark.parametrize("path", SUITES, ids=[p.stem for p in SUITES])
def test_suite_meta_agrees_with_its_rules(path):
    spec = contracts.contract_spec(path)
    rules = json.loads(path.read_text())["expectations"]
    (column_set,) = [
        r["kwargs"]["column_set"] for r in rules if r["type"] == "expect_table_columns_to_match_set"
    ]
    with_values = {
        r["kwargs"]["column"] for r in rules if r["type"] == "expect_column_values_to_be_in_set"
    }

    assert spec.columns == column_set
    assert spec.label in spec.discrete_columns
    assert set(spec.discrete_columns) <= with_values
    assert set(spec.numeric_columns).isdisjoint(spec.discrete_columns)


@pytest.mark.parametrize("path", SUITES, ids=[p.stem for p in SUITES])
def test_human_readable_description_matches_the_suite(path):
    doc = yaml.safe_load((path.parents[1] / f"{path.stem}.yaml").read_text())
    spec = contracts.contract_spec(path)
    rules = json.loads(path.read_text())["expectations"]

    def kwargs_of(kind):
        return {r["kwargs"]["column"]: r["kwargs"] for r in rules if r["type"] == kind}

    allowed = kwargs_of("expect_column_values_to_be_in_set")
    ranges = kwargs_of("expect_column_values_to_be_between")
    not_null = kwargs_of("expect_column_values_to_not_be_null")
    columns = doc["columns"]

    assert list(columns) == spec.columns
    assert doc["label"] == spec.label and columns[spec.label].get("label") is True
    assert doc["discrete_columns"] == list(spec.discrete_columns)
    for name, column in columns.items():
        assert column["type"] == spec.column_types[name], name
        assert column["nullable"] is (name not in not_null), name
        assert column["pii"] in {"direct_identifier", "quasi_identifier", "sensitive", "none"}
        if "allowed" in column:
            assert sorted(column["allowed"]) == sorted(allowed[name]["value_set"]), name
        if "range" in column:
            assert column["range"] == [ranges[name]["min_value"], ranges[name]["max_value"]], name
    assert set(allowed) == {n for n, c in columns.items() if "allowed" in c}
    assert set(ranges) == {n for n, c in columns.items() if "range" in c}


@needs_adult
def test_the_real_adult_table_meets_the_contract():
    result = validate_frame(pd.read_csv(ADULT, nrows=5000))

    assert result.success, (result.schema_failures, result.row_failures.head())
    assert result.row_failures.empty and result.statistics["success_percent"] == 100.0


@needs_adult
def test_schema_problems_name_the_columns():
    frame = adult_slice(0, 20).drop(columns=["race"]).assign(zip_code="12345")
    frame["hours-per-week"] = "many"

    result = validate_frame(frame)

    assert not result.schema_ok
    assert ("race", "required column is missing") in result.schema_failures
    assert ("zip_code", "column is not part of the contract") in result.schema_failures
    (hours,) = [m for c, m in result.schema_failures if c == "hours-per-week"]
    assert "should hold a number" in hours and "'many'" in hours


def test_a_numeric_column_without_not_null_rule_is_rejected(tmp_path):
    suite = {
        "name": "t",
        "meta": {"column_types": {"x": "int64"}},
        "expectations": [{"type": "expect_column_to_exist", "kwargs": {"column": "x"},
                          "meta": {"level": "schema"}}],
    }
    path = tmp_path / "t.json"
    path.write_text(json.dumps(suite))

    with pytest.raises(ValueError, match="not_be_null"):
        contracts.read_suite_json(path)


def test_loading_the_definitions_does_not_import_gx():
    code = (
        "import sys, pipelines.defs.ingest, pipelines.defs.summaries; "
        "heavy = [m for m in ('great_expectations', 'torch') if m in sys.modules]; "
        "sys.exit(', '.join(heavy) or None)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_contract_override_reaches_every_reader(tmp_path, monkeypatch):
    suite = json.loads(settings.party_contract_path().read_text())
    suite["meta"]["label"] = "sex"
    path = tmp_path / "other.json"
    path.write_text(json.dumps(suite))
    monkeypatch.setenv("DAGAN_PARTY_CONTRACT", str(path))

    assert settings.party_contract_path() == path
    assert contracts.contract_spec().path == path
    assert contracts.model_columns().label == "sex"  # training's label
    assert "sex" in contracts.model_columns().discrete_columns
    assert contracts.ContractStream().path == path  # ingest's validation
