"""Utility, similarity and privacy metrics: known values on tiny seeded tables."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from dagan_core.errors import ConfigError, InvalidDataError
from dagan_core.metrics import (
    MetricResult,
    column_fidelity,
    evaluate,
    ml_utility,
    per_party_utility,
    privacy_report,
    similarity_report,
    tstr_vs_trtr,
)
from dagan_core.metrics.similarity import detection_auc, js_distance, scaled_wasserstein
from dagan_core.metrics.utility import score_predictions

FAST = ("lr", "dt")


@pytest.fixture(autouse=True)
def _one_openmp_thread():
    """Histogram gradient boosting uses OpenMP; on a shared 2-core box one thread is faster."""
    with threadpool_limits(limits=1):
        yield


def _table(n: int, seed: int) -> pd.DataFrame:
    """Label is a deterministic function of x; ``color`` is noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame({
        "x": x,
        "z": rng.normal(size=n),
        "color": rng.choice(["red", "green", "blue"], size=n),
        "y": np.where(x > 0.8, "yes", "no"),
    })


def test_metric_result_validation():
    assert MetricResult.known("jsd_mean", 0.1).direction == "minimize"
    assert MetricResult("m", 1).value == 1.0
    with pytest.raises(ConfigError):
        MetricResult("m", 1.0, "up")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        MetricResult.known("nope", 1.0)


def test_score_predictions_known_values():
    y = np.array(["a", "a", "a", "b"])
    s = score_predictions(y, np.array(["a", "a", "b", "b"]),
                          np.array([[0.9, 0.1], [0.8, 0.2], [0.4, 0.6], [0.3, 0.7]]), ["a", "b"])
    assert s["minority_f1"] == pytest.approx(2 / 3)  # b: precision 1/2, recall 1
    assert s["macro_f1"] == pytest.approx((0.8 + 2 / 3) / 2)
    assert s["balanced_accuracy"] == pytest.approx((2 / 3 + 1) / 2)
    assert s["roc_auc"] == pytest.approx(1.0)


def test_tstr_on_deterministic_label_is_near_perfect():
    report = ml_utility(_table(400, 0), _table(300, 1), "y", ["color", "y"], seed=0)
    assert list(report.scores.index) == ["lr", "dt", "rf", "hgb", "mean"]
    assert report.minority_class == "yes"
    assert report.mean["macro_f1"] > 0.95
    assert report.scores.loc["dt", "minority_f1"] > 0.95
    assert report.mean["roc_auc"] > 0.97
    json.dumps(report.to_dict())
    assert set(report.to_frame().columns) == {"model", "metric", "value"}


def test_single_class_train_and_unseen_classes_do_not_crash():
    train, test = _table(100, 0), _table(100, 1)
    train["y"] = "no"
    report = ml_utility(train, test, "y", ["color"], models=FAST)
    assert report.scores["roc_auc"].tolist() == pytest.approx([0.5, 0.5, 0.5])
    assert report.scores.loc["lr", "minority_f1"] == 0.0
    # multiclass test with a class (and a color) the training rows never had
    test = _table(150, 2)
    test["y"] = np.where(test["x"] < -0.8, "low", test["y"])
    test.loc[:5, "color"] = "purple"
    report = ml_utility(_table(200, 3), test, "y", ["color"], models=FAST)
    assert report.scores.loc["dt", "minority_f1"] == 0.0  # worst class: "low", never seen
    assert np.isfinite(report.scores["roc_auc"]).all()
    # every test class has its F1 (mean over the models); the unseen one scores 0
    assert set(report.class_f1) == set(test["y"]) and report.class_f1["low"] == 0.0
    assert report.class_f1["yes"] > 0.5 and report.to_dict()["class_f1"] == report.class_f1


def test_integer_and_float_labels_agree():
    train, test = _table(200, 0), _table(100, 1)
    train["y"] = (train["x"] > 0.8).astype(float)
    test["y"] = (test["x"] > 0.8).astype(int)
    assert ml_utility(train, test, "y", [], models=("dt",)).mean["macro_f1"] > 0.95


def test_tstr_vs_trtr_and_per_party():
    real, test = _table(200, 0), _table(150, 1)
    table = tstr_vs_trtr(real.copy(), real, test, "y", ["color"], models=FAST)
    assert list(table.columns) == ["model", "metric", "tstr", "trtr", "ratio"]
    assert set(table["model"]) == {"lr", "dt", "mean"}
    assert table["ratio"].to_numpy() == pytest.approx(np.ones(len(table)))
    noise = real.assign(y=np.random.default_rng(0).permutation(real["y"].to_numpy()))
    worse = tstr_vs_trtr(noise, real, test, "y", ["color"], models=FAST)
    mean_f1 = worse[(worse["model"] == "mean") & (worse["metric"] == "macro_f1")]
    assert mean_f1["ratio"].item() < 0.9
    parties = {"p0": real[:120], "p1": real[120:]}
    out = per_party_utility(parties, parties, test, "y", ["color"], models=("dt",))
    assert set(out["party"]) == {"p0", "p1"} and len(out) == 2 * 2 * 4
    with pytest.raises(InvalidDataError) as err:
        per_party_utility({"p9": real}, parties, test, "y", ["color"], models=("dt",))
    assert err.value.party == "p9"
    with pytest.raises(ConfigError):
        ml_utility(real, test, "y", ["color"], models=("svm",))


def test_column_distances_known_values():
    a = pd.Series(["x", "y"] * 10)
    assert js_distance(a, a.sample(frac=1, random_state=0)) == pytest.approx(0.0)
    assert js_distance(a, pd.Series(["z", "w"])) == pytest.approx(1.0)
    r = pd.Series(np.linspace(0, 10, 101))
    assert scaled_wasserstein(r, r) == pytest.approx(0.0)
    assert scaled_wasserstein(r, r + 10) == pytest.approx(1.0)  # shift by the real range
    assert js_distance(pd.Series([1, 0]), pd.Series([1.0, 0.0])) == pytest.approx(0.0)


def test_similarity_report_known_values():
    real = _table(300, 0).drop(columns="z").assign(w=lambda d: d["x"] * 2,
                                                   party=["p0", "p1", "p2"] * 100)
    same = similarity_report(real, real.copy(), ["color", "y"], label="y")
    assert same["jsd_mean"] == pytest.approx(0.0) and same["wasserstein_mean"] == 0.0
    assert same["corr_frobenius"] == pytest.approx(0.0)
    assert same["n_discrete"] == 2 and same["n_continuous"] == 2  # party is not compared
    assert same["class_mix_jsd:p1"] == pytest.approx(0.0)
    flipped = real.assign(w=-real["x"] * 2, color="other")
    flipped.loc[flipped["party"] == "p2", "y"] = "yes"
    diff = similarity_report(real, flipped, ["color", "y"], label="y")
    # corr(x, w) goes from +1 to -1: two off-diagonal cells differ by 2 -> sqrt(8)
    assert diff["corr_frobenius"] == pytest.approx(math.sqrt(8))
    assert diff["class_mix_jsd:p0"] == pytest.approx(0.0)
    assert diff["class_mix_jsd:p2"] > 0.3
    detail = column_fidelity(real, flipped, ["color", "y"])
    assert detail.set_index("column").loc["color", "value"] == pytest.approx(1.0)
    assert set(detail["kind"]) == {"discrete", "continuous"}


def test_detection_auc_separates_shifted_data():
    real = _table(300, 0)
    assert detection_auc(real, real.assign(x=real["x"] + 5), ["color", "y"]) > 0.95
    assert detection_auc(real, _table(300, 1), ["color", "y"]) < 0.7


def test_privacy_exact_copies():
    train, holdout = _table(300, 0), _table(200, 1)
    copy = privacy_report(train, train.sample(frac=1.0, random_state=0), holdout, ["color", "y"],
                          seed=0)
    assert copy["exact_copy_rate_synth"] == 1.0 and copy["dcr_synth_p5"] == pytest.approx(0.0)
    assert copy["exact_copy_rate_holdout"] == 0.0 and copy["dcr_holdout_p5"] > 0
    assert copy["dcr_ratio"] == pytest.approx(0.0)
    fresh = privacy_report(train, _table(200, 2), holdout, ["color", "y"], seed=0, max_rows=50)
    assert fresh["n_synth"] == 50 and fresh["exact_copy_rate_synth"] == 0.0
    assert 0.3 < fresh["dcr_ratio"] < 3
    with pytest.raises(InvalidDataError):
        privacy_report(train, train[:0], holdout, ["color"])


def test_evaluate_bundles_everything():
    real = _table(240, 0).assign(party=["p0", "p1"] * 120)
    synth = _table(200, 5).assign(party=["p0", "p1"] * 100)
    report = evaluate(real, synth, _table(150, 1), "y", ["color", "y"], models=("dt",),
                      per_party=True)
    summary = report.summary()
    for key in ("tstr_macro_f1", "ratio_roc_auc", "jsd_mean", "class_mix_jsd:p1", "dcr_ratio"):
        assert key in summary
    assert set(report.per_party["party"]) == {"p0", "p1"}
    json.dumps(report.to_dict(), allow_nan=True)
    with pytest.raises(InvalidDataError):
        evaluate(real.drop(columns="party"), synth, _table(50, 1), "y", ["color"],
                 models=("dt",), per_party=True)
