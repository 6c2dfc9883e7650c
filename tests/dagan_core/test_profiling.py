"""Imbalance profiles: known values on tiny hand-made tables."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from dagan_core.errors import InvalidDataError
from dagan_core.profiling import (
    FRAME_COLUMNS,
    js_divergence,
    profile_parties,
    profile_party,
)


def _table(labels: list[str], colors: list[str] | None = None) -> pd.DataFrame:
    n = len(labels)
    colors = colors or ["red"] * n
    amount = np.arange(n, dtype=float)
    amount[0] = np.nan
    return pd.DataFrame({"amount": amount, "color": colors, "y": labels})


def test_profile_party_known_values():
    df = _table(["no"] * 6 + ["yes"] * 2, ["red"] * 4 + ["blue"] * 4)
    prof = profile_party(df, "y", party="p")
    assert prof.n_rows == 8
    assert prof.class_counts == {"no": 6, "yes": 2}
    assert prof.imbalance_ratio == pytest.approx(3.0)
    h = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25)) / math.log(2)
    assert prof.label_entropy == pytest.approx(h)
    assert prof.minority_class == "yes"
    assert set(prof.category_frequencies) == {"color", "y"}  # inferred: object columns + label
    assert prof.category_frequencies["color"] == {"blue": 0.5, "red": 0.5}
    assert prof.null_rates["amount"] == pytest.approx(1 / 8)
    assert prof.null_rates["color"] == 0.0


def test_profile_party_single_class_and_int_labels():
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "label": [1, 1, 1]})
    prof = profile_party(df, "label", discrete_columns=[])
    assert prof.class_counts == {"1": 3}
    assert prof.imbalance_ratio == 1.0
    assert prof.label_entropy == 0.0
    assert list(prof.category_frequencies) == ["label"]


def test_profile_party_serialisation():
    prof = profile_party(_table(["a", "b", "b", "c"]), "y", party="p")
    json.dumps(prof.to_dict())
    frame = prof.to_frame()
    assert tuple(frame.columns) == FRAME_COLUMNS
    assert (frame["party"] == "p").all()
    counts = frame[frame["kind"] == "class_count"].set_index("value")["metric"]
    assert counts.to_dict() == {"b": 2.0, "a": 1.0, "c": 1.0}
    shares = frame[frame["kind"] == "category_share"]
    assert shares.groupby("column")["metric"].sum().to_numpy() == pytest.approx([1.0, 1.0])


def test_profile_party_bad_input():
    with pytest.raises(InvalidDataError) as err:
        profile_party(_table(["a", "b"]), "income", party="bank_1")
    assert err.value.party == "bank_1" and err.value.column == "income"
    with pytest.raises(InvalidDataError):
        profile_party(pd.DataFrame({"y": []}), "y", party="bank_1")
    with pytest.raises(InvalidDataError) as err:
        profile_party(_table(["a", "b"]), "y", discrete_columns=["nope"])
    assert err.value.column == "nope"
    with pytest.raises(InvalidDataError):
        profile_party(pd.DataFrame({"y": [None, None]}), "y")


def test_js_divergence_bounds():
    assert js_divergence([3, 1], [6, 2]) == pytest.approx(0.0)
    assert js_divergence([1, 0], [0, 1]) == pytest.approx(1.0)
    assert math.isnan(js_divergence([0, 0], [1, 1]))


def test_profile_parties_known_values():
    profiles = {
        "big": profile_party(_table(["a"] * 30 + ["b"] * 10), "y"),
        "same": profile_party(_table(["a"] * 6 + ["b"] * 2), "y"),
        "only_c": profile_party(_table(["c"] * 4), "y"),
    }
    cross = profile_parties(profiles)
    assert cross.party_sizes == {"big": 40, "same": 8, "only_c": 4}
    assert cross.size_ratio == pytest.approx(10.0)
    assert cross.pooled_class_counts == {"a": 36, "b": 12, "c": 4}
    assert cross.missing_classes == {"big": ["c"], "same": ["c"], "only_c": ["a", "b"]}
    assert cross.single_party_classes == {"c": "only_c"}
    # identical mixes -> equal divergence; hand computed base-2 JSD for only_c
    assert cross.label_jsd["big"] == pytest.approx(cross.label_jsd["same"])
    p, q = np.array([0, 0, 1.0]), np.array([36, 12, 4]) / 52
    m = (p + q) / 2
    kl = lambda a, b: float(np.sum(a[a > 0] * np.log2(a[a > 0] / b[a > 0])))  # noqa: E731
    assert cross.label_jsd["only_c"] == pytest.approx((kl(p, m) + kl(q, m)) / 2)
    json.dumps(cross.to_dict())
    frame = cross.to_frame()
    assert tuple(frame.columns) == FRAME_COLUMNS
    assert frame.loc[frame["kind"] == "size_ratio", "metric"].item() == pytest.approx(10.0)


def test_profile_parties_bad_input():
    with pytest.raises(InvalidDataError):
        profile_parties({})
    a = profile_party(_table(["a", "b"]), "y")
    b = profile_party(_table(["a", "b"]).rename(columns={"y": "z"}), "z")
    with pytest.raises(InvalidDataError):
        profile_parties({"a": a, "b": b})
