"""The dbt-like SQL factory: one asset per file, inferred deps, and every shipped model runs."""

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import pandas as pd
import pytest

from pipelines.defs.analytics.assets import SOURCES, SQL_ROOT, sql_model_assets
from pipelines.defs.evaluation.metrics_frames import evaluation_settings, metrics_tables
from pipelines.factories.sql_models import (
    SqlModelError,
    build_sql_model_assets,
    discover_sql_models,
    header_comment,
    tables_read,
)
from pipelines.resources.warehouse import Warehouse

# ---------------------------------------------------------------- factory behaviour


def test_one_asset_per_file_with_code_version_and_comment() -> None:
    files = sorted(SQL_ROOT.glob("*/*.sql"))
    keys = {a.key for a in sql_model_assets}
    assert keys == {dg.AssetKey([f.parent.name, f.stem]) for f in files}
    assert {"class_balance", "utility_leaderboard", "column_fidelity"} <= {f.stem for f in files}
    for asset in sql_model_assets:
        path = SQL_ROOT.joinpath(*asset.key.path).with_suffix(".sql")
        assert asset.code_versions_by_key[asset.key] == hashlib.sha256(
            path.read_text().encode()
        ).hexdigest()
        assert asset.group_names_by_key[asset.key] == "analytics"
        assert asset.descriptions_by_key[asset.key] == header_comment(path.read_text())


def test_shipped_models_depend_on_the_pipeline_assets() -> None:
    deps = {a.key.to_user_string(): set(a.asset_deps[a.key]) for a in sql_model_assets}
    synthetic, metrics = dg.AssetKey("synthetic_table"), dg.AssetKey("utility_metrics")
    assert deps["marts/class_balance"] == {metrics}
    assert deps["marts/utility_leaderboard"] == {metrics}
    assert deps["marts/party_sizes"] == {metrics, synthetic}


def test_ctes_are_not_tables_and_bare_names_are_main() -> None:
    sql = "WITH a AS (SELECT * FROM metrics.utility) SELECT * FROM a JOIN t USING (x), range(3)"
    assert tables_read(sql) == ("main.t", "metrics.utility")


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT 1; SELECT 2", "exactly one SELECT"),
        ("CREATE TABLE x AS SELECT 1", "exactly one SELECT"),
        ("SELECT * FROM read_parquet('/tmp/x.parquet')", "warehouse tables only"),
        ("SELECT * FROM read_csv('/tmp/x.csv')", "warehouse tables only"),
        ("SELECT * FROM other.main.t", "catalog-qualified"),
    ],
)
def test_malformed_models_are_rejected(sql: str, message: str) -> None:
    with pytest.raises(SqlModelError, match=message):
        tables_read(sql)


def _write(root: Path, rel: str, sql: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(sql)
    return path


def test_model_to_model_dependency_and_unknown_tables(tmp_path: Path) -> None:
    _write(tmp_path, "staging/base.sql", "-- comment: base\nSELECT * FROM metrics.utility")
    _write(tmp_path, "marts/top.sql", "SELECT count(*) AS n FROM staging.base")
    assets = {a.key.to_user_string(): a for a in build_sql_model_assets(tmp_path, SOURCES)}
    top = assets["marts/top"]
    assert set(top.asset_deps[top.key]) == {dg.AssetKey(["staging", "base"])}
    _write(tmp_path, "marts/bad.sql", "SELECT * FROM somewhere.unknown")
    with pytest.raises(SqlModelError, match="reads somewhere.unknown"):
        build_sql_model_assets(tmp_path, SOURCES)


def test_layout_rules(tmp_path: Path) -> None:
    _write(tmp_path, "marts/Bad-Name.sql", "SELECT 1")
    with pytest.raises(SqlModelError, match="lower-case identifier"):
        discover_sql_models(tmp_path)


# ---------------------------------------------------------------- the shipped SQL over fixtures


def _report(parties: list[str]) -> SimpleNamespace:
    metrics = ["macro_f1", "minority_f1", "balanced_accuracy", "roc_auc"]
    utility = pd.DataFrame(
        [(m, k, 0.6, 0.8, 0.75) for m in ["lr", "rf", "mean"] for k in metrics],
        columns=["model", "metric", "tstr", "trtr", "ratio"],
    )
    per_party = pd.concat([utility.assign(party=p) for p in parties], ignore_index=True)
    return SimpleNamespace(
        utility=utility,
        per_party=per_party[["party", "model", "metric", "tstr", "trtr", "ratio"]],
        similarity={"jsd_mean": 0.1, "wasserstein_mean": 0.05, "class_mix_jsd_mean": 0.02,
                    **{f"class_mix_jsd:{p}": 0.02 for p in parties}},
        privacy={"dcr_ratio": 1.1, "exact_copy_rate_synth": 0.0, "dcr_synth_p5": 0.3},
    )


def _publish_fixtures(warehouse: Warehouse, version: str, strategy: str, ratio: float,
                      models: tuple[str, ...] = ("lr", "rf"), max_rows: int = 0,
                      epochs: int = 10) -> None:
    parties = ["a", "b"]
    record = {
        "strategy": strategy,
        "config": {"train": {"epochs": epochs}},
        "label": "y",
        "parties": {
            "a": {"rows": 30, "class_counts": {"no": 20, "yes": 10}},
            "b": {"rows": 10, "class_counts": {"no": 10}},
        },
    }
    synthetic = pd.DataFrame(
        {
            "x": range(40),
            "y": ["no"] * 22 + ["yes"] * 8 + ["no"] * 10,
            "party": ["a"] * 30 + ["b"] * 10,
        }
    )
    fidelity = pd.DataFrame(
        [("x", "continuous", "wasserstein", 0.2), ("y", "discrete", "jsd", 0.05)],
        columns=["column", "kind", "metric", "value"],
    )
    report = _report(parties)
    report.utility["ratio"] = ratio
    config = SimpleNamespace(models=list(models), max_rows=max_rows, seed=0, detection=False)
    settings = evaluation_settings(record, config, {"real": 40, "synthetic": 40, "test": 25},
                                   "test.csv")
    tables = metrics_tables(version, record, report, fidelity, synthetic, datetime.now(UTC),
                            settings)
    rows = synthetic.assign(model_version=version)

    def write(w):
        w.replace_partition("rows", rows, "model_version", version, schema="synthetic")
        for name, frame in tables.items():
            w.replace_partition(name, frame, "model_version", version, schema="metrics")

    warehouse.publish(write)


def test_every_shipped_model_runs_over_fixture_tables(tmp_path: Path) -> None:
    warehouse = Warehouse(path=str(tmp_path / "wh.duckdb"))
    _publish_fixtures(warehouse, "v1", "dagan", 0.9)
    _publish_fixtures(warehouse, "v2", "fedsyn", 0.7)
    result = dg.materialize(sql_model_assets, resources={"warehouse": warehouse})
    assert result.success
    for asset in sql_model_assets:
        layer, table = asset.key.path
        assert len(warehouse.query(f"SELECT * FROM {layer}.{table}")) > 0, asset.key
        mats = result.asset_materializations_for_node(asset.op.name)
        assert mats[0].metadata["dagster/row_count"].value > 0

    board = warehouse.query("SELECT * FROM marts.utility_leaderboard ORDER BY rank")
    assert board[["rank", "model_version", "strategy", "versions_in_setting"]].values.tolist() == [
        [1, "v1", "dagan", 2],
        [2, "v2", "fedsyn", 2],
    ]
    assert board["setting"].tolist() == [
        "models lr,rf; rows real/synthetic/test 40/40/25; test set test.csv; seed 0"] * 2
    assert board["ratio_macro_f1"].tolist() == pytest.approx([0.9, 0.7])
    assert board["dcr_ratio"].tolist() == pytest.approx([1.1, 1.1])

    balance = warehouse.query(
        "SELECT * FROM marts.class_balance WHERE model_version = 'v1' ORDER BY party, label_value"
    )
    assert balance[["party", "label_value", "real_n", "synthetic_n"]].values.tolist() == [
        ["a", "no", 20, 22],
        ["a", "yes", 10, 8],
        ["b", "no", 10, 10],
    ]
    assert balance["share_gap"].tolist() == pytest.approx([22 / 30 - 2 / 3, 8 / 30 - 1 / 3, 0.0])

    sizes = warehouse.query("SELECT * FROM marts.party_sizes WHERE model_version = 'v2'")
    assert sorted(sizes[["party", "real_rows", "synthetic_rows"]].values.tolist()) == [
        ["a", 30, 30],
        ["b", 10, 10],
    ]
    fidelity = warehouse.query("SELECT * FROM marts.column_fidelity WHERE model_version = 'v1'")
    assert fidelity.sort_values("worst_rank")["column_name"].tolist() == ["x", "y"]
    comment = warehouse.query(
        "SELECT comment FROM duckdb_tables() WHERE schema_name = 'marts' "
        "AND table_name = 'class_balance'"
    )["comment"].iloc[0]
    assert comment.startswith("Class mix per party and model version")


def test_versions_scored_differently_are_ranked_apart(tmp_path: Path) -> None:
    """Two versions scored with different utility models and row caps: each is first of its own
    evaluation setting, the leaderboard says which setting, and the column fidelity's best
    version is looked for within the setting only."""
    warehouse = Warehouse(path=str(tmp_path / "wh.duckdb"))
    _publish_fixtures(warehouse, "short", "dagan", 0.95, models=("lr",), max_rows=20, epochs=2)
    _publish_fixtures(warehouse, "long", "dagan", 0.8, models=("lr", "rf"), epochs=10)
    _publish_fixtures(warehouse, "long-b", "fedsyn", 0.7, models=("rf", "lr"), epochs=10)
    assert dg.materialize(sql_model_assets, resources={"warehouse": warehouse}).success

    board = warehouse.query(
        "SELECT model_version, rank, versions_in_setting, setting, epochs, models, real_rows, "
        "synthetic_rows, test_rows FROM marts.utility_leaderboard ORDER BY model_version")
    rows = {r.model_version: r for r in board.itertuples()}
    assert (rows["short"].rank, rows["short"].versions_in_setting) == (1, 1)
    assert (rows["long"].rank, rows["long-b"].rank) == (1, 2)
    assert rows["long"].versions_in_setting == 2
    assert rows["short"].setting == (
        "models lr; rows real/synthetic/test 20/20/20; test set test.csv; seed 0")
    assert rows["long"].setting == rows["long-b"].setting != rows["short"].setting
    assert (rows["short"].epochs, rows["long"].epochs) == (2, 10)
    assert (rows["short"].models, rows["long"].models) == ("lr", "lr,rf")
    assert (rows["long"].real_rows, rows["long"].synthetic_rows, rows["long"].test_rows) == (
        40, 40, 25)

    fidelity = warehouse.query(
        "SELECT model_version, best_version, setting FROM marts.column_fidelity "
        "WHERE column_name = 'x'").set_index("model_version")
    assert fidelity.loc["short", "best_version"] == "short"
    assert fidelity.loc["long-b", "best_version"] in {"long", "long-b"}
    per_party = warehouse.query(
        "SELECT DISTINCT model_version, setting FROM marts.per_party_utility")
    assert dict(per_party.values.tolist())["short"] == rows["short"].setting
