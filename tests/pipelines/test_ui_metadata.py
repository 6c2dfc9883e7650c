"""What the Dagster UI shows without running anything: groups, owners, table schemas with
column descriptions, code versions; and the plots rendered as inline PNGs."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from pipelines.definitions import defs
from pipelines.factories.sql_models import (
    SqlModelError,
    check_columns,
    column_lines,
    load_sql_model,
)
from pipelines.resources.warehouse import Warehouse

GROUPS = {"ingest", "summaries", "encoding", "training", "synthesis", "evaluation", "analytics"}


def _specs() -> dict[dg.AssetKey, dg.AssetSpec]:
    return {spec.key: spec for spec in defs.resolve_all_asset_specs()}


def test_every_asset_has_a_domain_group_owner_and_described_columns() -> None:
    specs = _specs()
    assert len(specs) >= 12
    for key, spec in specs.items():
        name = key.to_user_string()
        assert spec.group_name in GROUPS, name
        assert spec.owners, name
        assert spec.tags.get("privacy"), name
        assert spec.description, name
        schema = spec.metadata.get("dagster/column_schema")
        assert isinstance(schema, dg.TableSchema), f"{name} has no column schema"
        undocumented = [c.name for c in schema.columns if not c.description]
        assert not undocumented, f"{name}: columns without a description: {undocumented}"


def test_sql_assets_have_a_code_version_from_their_file() -> None:
    import hashlib

    from pipelines.defs.analytics.assets import SQL_ROOT

    for key, spec in _specs().items():
        if spec.group_name == "analytics":
            path = SQL_ROOT.joinpath(*key.path).with_suffix(".sql")
            assert spec.code_version == hashlib.sha256(path.read_bytes()).hexdigest()


def test_column_lines_parse_and_are_checked_against_the_built_table(tmp_path: Path) -> None:
    sql = (
        "-- comment: t\n-- column: a (BIGINT): the a\n-- column: b (VARCHAR): the b\n"
        "SELECT 1 AS a"
    )
    assert column_lines(sql) == (("a", "BIGINT", "the a"), ("b", "VARCHAR", "the b"))
    with pytest.raises(SqlModelError, match=r"<sql>:1: expected"):
        column_lines("-- column: a BIGINT the a\nSELECT 1")
    with pytest.raises(SqlModelError, match="documented twice"):
        column_lines("-- column: a (INT): x\n-- column: a (INT): y\nSELECT 1")
    (tmp_path / "marts").mkdir()
    (tmp_path / "marts" / "t.sql").write_text(sql)
    model = load_sql_model(tmp_path / "marts" / "t.sql", tmp_path)
    assert check_columns(model, [("a", "BIGINT"), ("b", "VARCHAR")]) == []
    assert check_columns(model, [("a", "INTEGER"), ("b", "VARCHAR")]) == [
        "marts.t.a: documented as BIGINT but built as INTEGER"
    ]
    with pytest.raises(SqlModelError, match=r"undocumented \['c'\].*not built \['b'\]"):
        check_columns(model, [("a", "BIGINT"), ("c", "VARCHAR")])


def test_column_comments_reach_the_warehouse_and_its_table_schema(tmp_path: Path) -> None:
    warehouse = Warehouse(path=str(tmp_path / "wh.duckdb"))
    frame = pd.DataFrame({"k": ["v1"], "x": [1.5], "y": ["a"]})

    def write(w):
        w.replace_partition("t", frame, "k", "v1", schema="s", comment="a table")
        return w.comment_columns("t", {"k": "the key", "x": "an x"}, schema="s")

    assert warehouse.publish(write) == ["y"]
    schema = warehouse.table_schema("t", "s")
    assert [(c.name, c.type, c.description) for c in schema.columns] == [
        ("k", "VARCHAR", "the key"), ("x", "DOUBLE", "an x"), ("y", "VARCHAR", None)
    ]


# ------------------------------------------------------------------------------------ plots
def _png_size(value: dg.MetadataValue) -> tuple[int, int]:
    from PIL import Image

    match = re.fullmatch(r"!\[[^\]]*\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", value.value)
    assert match, value.value[:80]
    return Image.open(io.BytesIO(base64.b64decode(match.group(1)))).size


def _history(epochs: int, attention: bool) -> list[dict]:
    parties = ["a", "b", "c"]
    return [
        {
            "epoch": e, "generator_loss": 0.1 * e, "cond_loss": 1.0 / (e + 1),
            "critic_loss": {p: 1.0 + e for p in parties},
            "wasserstein": {p: 0.1 * e for p in parties},
            "alpha": {p: 1 / 3 for p in parties} if attention else {},
            "pi": {p: {"no": 0.7, "yes": 0.3} for p in parties} if attention else {},
        }
        for e in range(epochs)
    ]


@pytest.mark.parametrize("attention", [True, False])
def test_training_plots_render(attention: bool) -> None:
    from pipelines.plots import attention_weights, loss_curves

    history = _history(3, attention)
    width, height = _png_size(loss_curves(history))
    assert width > 500 and height > 300
    assert _png_size(attention_weights(history))[0] > 500


def test_synthesis_and_utility_plots_render() -> None:
    from pipelines.defs.synthesis.distributions import column_comparisons, plotted_columns
    from pipelines.plots import class_mix, column_histograms, utility_bars

    mix = pd.DataFrame({"party": ["a", "a", "b"], "label_value": ["no", "yes", "no"],
                        "real_share": [0.7, 0.3, 1.0], "synthetic_share": [0.6, 0.4, 1.0]})
    assert _png_size(class_mix(mix))[0] > 300

    kinds = {"x": "continuous", "color": "discrete", "y": "discrete"}
    assert plotted_columns(kinds, "y") == ["x", "color"]
    wide = {"c1": "discrete", "n1": "continuous", "y": "discrete", "c2": "discrete",
            "n2": "continuous", "c3": "discrete"}
    assert plotted_columns(wide, "y") == ["n1", "n2", "c1", "c2", "c3"]  # all but the label
    with pytest.raises(ValueError, match="not model columns"):
        plotted_columns(kinds, "y", ["nope"])
    summaries = {
        p: {"n_rows": n, "category_counts": {"color": [["red", n // 2], ["blue", n - n // 2]]},
            "mixtures": {"x": {"weights": [1.0], "means": [m], "stds": [1.0],
                               "minimum": m - 3, "maximum": m + 3}}}
        for p, n, m in (("a", 100, 0.0), ("b", 50, 5.0))
    }
    rows = pd.DataFrame({"x": np.linspace(-3, 8, 40), "color": ["red"] * 30 + ["blue"] * 10})
    comps = column_comparisons(summaries, kinds, rows, ["x", "color"])
    xs, density = comps[0].real_density
    assert np.trapezoid(density, xs) == pytest.approx(1.0, abs=0.02)
    assert comps[1].real == {"red": 0.5, "blue": 0.5}
    assert comps[1].synthetic == {"red": 0.75, "blue": 0.25}
    assert _png_size(column_histograms(comps))[0] > 500

    utility = pd.DataFrame({"metric": ["macro_f1", "roc_auc"], "tstr": [0.5, 0.7],
                            "trtr": [0.8, 0.9], "ratio": [0.625, 0.78]})
    assert _png_size(utility_bars(utility))[0] > 300


def test_text_columns_show_as_string_on_raw_and_validated_tables() -> None:
    from pipelines.defs.ingest.table_metadata import table_schema, type_name

    assert [type_name(t) for t in ("object", "string", "string[pyarrow]", "int64")] == [
        "string", "string", "string", "int64"]
    raw = table_schema({"workclass": "object", "age": "int64"})
    validated = table_schema(pd.DataFrame({"workclass": pd.Series(["a"], dtype="string"),
                                           "age": [1]}))
    assert [c.type for c in raw.columns] == [c.type for c in validated.columns] == [
        "string", "int64"]
