"""Ingest domain: landing reader, party store, contract check, quarantine split and sensor."""

from __future__ import annotations

import json

import dagster as dg
import pandas as pd
import pytest
from party_fixtures import adult_slice, needs_adult, resources, snapshot, write_party

from dagan_core.errors import InvalidDataError
from pipelines.defs.ingest import party_sensor, raw_party_table, validated_party_table
from pipelines.resources import LandingArea, PartyStore
from tests.pipelines.landing_helpers import read_party

pytestmark = needs_adult

INGEST = [raw_party_table, validated_party_table]
HEADER = "age,workclass,income\n"


# --- landing area ---------------------------------------------------------------------------


def test_landing_reads_csv_and_parquet_with_per_file_counts(tmp_path):
    write_party(tmp_path, "bank_a", adult_slice(0, 30), "a.csv")
    write_party(tmp_path, "bank_a", adult_slice(30, 50), "b.parquet")
    (tmp_path / "bank_a" / ".partial.csv").write_text("junk")
    (tmp_path / ".hidden").mkdir()
    landing = LandingArea(root=str(tmp_path))

    assert landing.parties() == ["bank_a"]
    table, counts = read_party(landing, "bank_a")

    assert [tuple(c) for c in counts] == [("a.csv", 30), ("b.parquet", 20)]
    assert len(table) == 50
    assert list(table.columns) == list(adult_slice(0, 1).columns)
    assert table["age"].dtype.kind == "i" and table["income"].dtype == object


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty"),
        ("age,workclass\n39,Staats-Verwaltung\n40,B\xfcro\n".encode("latin-1"), "not UTF-8"),
        (b"age;workclass;income\n39;State-gov;<=50K\n", "';' as its delimiter"),
        (b"age,income,age\n39,<=50K,40\n", "'age' appears more than once"),
        (HEADER.encode(), "header but no data rows"),
        (HEADER.encode() + b"39,State-gov,<=50K,extra\n", "more fields than the 3 header"),
        (HEADER.encode() + b"39,State-gov,<=50K\n40,A,B,C\n", "cannot be parsed as CSV"),
    ],
    ids=["empty", "encoding", "delimiter", "duplicate", "header-only", "extra-field", "ragged"],
)
def test_landing_rejects_unreadable_files(tmp_path, content, expected):
    folder = tmp_path / "clinic_b"
    folder.mkdir()
    (folder / "rows.csv").write_bytes(content)

    with pytest.raises(InvalidDataError, match=expected) as info:
        read_party(LandingArea(root=str(tmp_path)), "clinic_b")

    assert info.value.party == "clinic_b"
    assert "'rows.csv'" in str(info.value)
    if expected.startswith("'age'") or "delimiter" in expected:
        assert info.value.column is not None


def test_landing_rejects_files_with_different_columns(tmp_path):
    write_party(tmp_path, "p", adult_slice(0, 5), "a.csv")
    write_party(tmp_path, "p", adult_slice(5, 10).drop(columns=["race"]), "b.csv")

    with pytest.raises(InvalidDataError, match="'b.csv'.*missing \\['race'\\]") as info:
        read_party(LandingArea(root=str(tmp_path)), "p")
    assert info.value.column == "race"


# --- party store ----------------------------------------------------------------------------


def test_party_store_round_trip_is_atomic_and_private(tmp_path):
    store = PartyStore(root=str(tmp_path))
    df = adult_slice(0, 10)

    store.write_raw("party_0", df)
    store.write_validated("party_0", df.head(7))

    pd.testing.assert_frame_equal(store.read_raw("party_0"), df)
    assert len(store.read_validated("party_0")) == 7
    assert store.parties() == ["party_0"]
    assert sorted(p.name for p in (tmp_path / "party_0").iterdir()) == [
        "raw.parquet",
        "validated.parquet",
    ]
    with pytest.raises(FileNotFoundError, match="no quarantine table"):
        store.read_quarantine("party_0")
    with pytest.raises(InvalidDataError, match="party name"):
        store.write_raw("../elsewhere", df)


# --- assets and the blocking contract check ---------------------------------------------------


def _events(result: dg.ExecuteInProcessResult) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for event in result.all_events:
        if event.step_key:
            out.setdefault(event.step_key, []).append(event.event_type_value)
    return out


def test_missing_column_blocks_that_party_only(tmp_path):
    landing = tmp_path / "landing"
    write_party(landing, "good", adult_slice(0, 120))
    write_party(landing, "broken", adult_slice(120, 200).drop(columns=["sex"]))
    before = snapshot(landing)
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("parties", ["good", "broken"])

    bad = dg.materialize(
        INGEST, partition_key="broken", instance=instance, resources=resources(tmp_path),
        raise_on_error=False,
    )
    good = dg.materialize(
        INGEST, partition_key="good", instance=instance, resources=resources(tmp_path)
    )

    assert not bad.success
    (evaluation,) = bad.get_asset_check_evaluations()
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert "'broken'" in evaluation.description and "'sex'" in evaluation.description
    materialized = {e.asset_key.to_user_string() for e in bad.get_asset_materialization_events()}
    assert materialized == {"raw_party_table"}
    assert "STEP_SUCCESS" not in _events(bad).get("validated_party_table", [])

    assert good.success
    (ok,) = good.get_asset_check_evaluations()
    assert ok.passed
    meta = good.asset_materializations_for_node("validated_party_table")[0].metadata
    assert meta["rows_read"].value == meta["rows_validated"].value == 120
    assert meta["rows_quarantined"].value == 0
    store = PartyStore(root=str(tmp_path / "parties"))
    assert not store.has_table("broken", "validated")
    assert len(store.read_validated("good")) == 120
    assert snapshot(landing) == before


def test_bad_rows_are_quarantined_with_reasons(tmp_path):
    rows = adult_slice(0, 40)
    rows["age"] = rows["age"].astype(object)
    rows.loc[3, "age"] = -5
    rows.loc[5, "income"] = "maybe"
    rows.loc[5, "hours-per-week"] = 0
    rows.loc[8, "age"] = "abc"
    write_party(tmp_path / "landing", "hospital_c", rows)
    before = snapshot(tmp_path / "landing")
    res = resources(tmp_path)

    raw_party_table(dg.build_asset_context(partition_key="hospital_c", resources=res))
    store: PartyStore = res["party_store"]
    check, result = validated_party_table(
        dg.build_asset_context(partition_key="hospital_c", resources=res)
    )

    assert check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["rows_failing_row_rules"].value == "3"
    meta = result.metadata
    assert meta["rows_read"] == 40
    assert meta["rows_validated"] + meta["rows_quarantined"] == meta["rows_read"]
    assert meta["rows_quarantined"] == 3
    quarantine = store.read_quarantine("hospital_c")
    reasons = dict(zip(quarantine["fnlwgt"], quarantine["_reason"], strict=True))
    assert reasons[rows.loc[3, "fnlwgt"]] == "age=-5 is outside [17, 90]"
    assert "income='maybe' is not an allowed value" in reasons[rows.loc[5, "fnlwgt"]]
    assert "hours-per-week=0 is outside [1, 99]" in reasons[rows.loc[5, "fnlwgt"]]
    assert reasons[rows.loc[8, "fnlwgt"]] == "non-numeric value 'abc' in numeric column age"
    assert set(quarantine["_column"]) == {"age", "hours-per-week; income"}
    validated = store.read_validated("hospital_c")
    assert validated["age"].dtype == "int64" and len(validated) == 37
    assert snapshot(tmp_path / "landing") == before


# --- sensor ---------------------------------------------------------------------------------


def test_sensor_adds_new_parties_and_reruns_changed_ones(tmp_path):
    landing = tmp_path / "landing"
    write_party(landing, "party_0", adult_slice(0, 10))
    (landing / "party_empty").mkdir()
    instance = dg.DagsterInstance.ephemeral()
    res = {"landing": LandingArea(root=str(landing))}

    first = party_sensor(dg.build_sensor_context(instance=instance, resources=res))
    assert [r.partition_key for r in first.run_requests] == ["party_0"]
    (add,) = first.dynamic_partitions_requests
    assert add.partition_keys == ["party_0"] and add.partitions_def_name == "parties"
    instance.add_dynamic_partitions("parties", ["party_0"])

    quiet = party_sensor(
        dg.build_sensor_context(instance=instance, cursor=first.cursor, resources=res)
    )
    assert quiet.run_requests == [] and quiet.dynamic_partitions_requests == []

    write_party(landing, "party_1", adult_slice(10, 20))
    write_party(landing, "party_0", adult_slice(20, 40), "more.csv")
    later = party_sensor(
        dg.build_sensor_context(instance=instance, cursor=quiet.cursor, resources=res)
    )
    assert [r.partition_key for r in later.run_requests] == ["party_0", "party_1"]
    assert later.dynamic_partitions_requests[0].partition_keys == ["party_1"]
    assert len({r.run_key for r in first.run_requests + later.run_requests}) == 3
    assert set(json.loads(later.cursor)["parties"]) == {"party_0", "party_1"}


def test_sensor_skips_parties_whose_files_were_already_ingested():
    """A fresh sensor (no cursor) on an instance where the demo ingested the same files asks for
    nothing; a party whose files changed since, or never ingested, still runs."""
    from pipelines.defs.ingest.sensors import plan_party_runs

    digests = {"a": "d1", "b": "d2", "c": "d3"}
    plan = plan_party_runs(digests, None, ["a", "b", "c"], {"a": "d1", "b": "older"})
    assert plan.to_run == {"b": "d2", "c": "d3"} and plan.new_partitions == []
    assert plan_party_runs(digests, None, ["a", "b", "c"], digests).to_run == {}
