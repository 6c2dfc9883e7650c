"""Machine-learning utility: train on synthetic, test on real (TSTR) against train real (TRTR).

Four scikit-learn classifiers (logistic regression, decision tree, random forest, histogram
gradient boosting) are fitted on one table and scored on the real test table. Features are the
columns shared by the training and test tables except the label (so a ``party`` column that the
test table lacks is ignored); discrete ones are one-hot encoded (categories unseen in training are
encoded as all zeros), continuous ones median-imputed and standardised. Labels and discrete
values are compared as strings (integral numbers as ``"1"``, not ``"1.0"``).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, recall_score, roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

from dagan_core.errors import ConfigError, InvalidDataError
from dagan_core.metrics.base import category_strings, check_frame, split_columns

logger = logging.getLogger(__name__)

MODELS = ("lr", "dt", "rf", "hgb")
UTILITY_METRICS = ("macro_f1", "minority_f1", "balanced_accuracy", "roc_auc")


def _classifier(name: str, seed: int) -> Any:
    if name == "lr":
        return LogisticRegression(max_iter=500)
    if name == "dt":
        return DecisionTreeClassifier(max_depth=15, random_state=seed)
    if name == "rf":
        return RandomForestClassifier(n_estimators=50, max_depth=15, n_jobs=1, random_state=seed)
    if name == "hgb":
        return HistGradientBoostingClassifier(max_iter=100, early_stopping=False,
                                              random_state=seed)
    raise ConfigError(f"unknown utility model {name!r}; valid: {', '.join(MODELS)}")


def _xy(df: pd.DataFrame, label: str, discrete: list[str],
        continuous: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    df = df[df[label].notna()]
    x = pd.DataFrame(index=df.index)
    for col in discrete:
        x[col] = category_strings(df[col])
    for col in continuous:
        x[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    return x, category_strings(df[label])


def feature_pipeline(discrete: list[str], continuous: list[str], model: Any) -> Pipeline:
    """One-hot discrete + median-imputed standardised continuous features, then ``model``."""
    encode = ColumnTransformer([
        ("discrete", OneHotEncoder(handle_unknown="ignore", sparse_output=False), discrete),
        ("continuous", make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True),
                                     StandardScaler()), continuous),
    ])
    return Pipeline([("encode", encode), ("model", model)])


def score_predictions(y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray,
                      model_classes: Sequence[str]) -> dict[str, float]:
    """The four utility metrics of one model's predictions on the test labels.

    ``minority_f1`` is the F1 of the rarer test class (binary) or the worst class's F1
    (multiclass); ``roc_auc`` uses the minority's probability (binary) or the macro one-vs-rest
    mean (multiclass); a class the model never saw gets probability 0 (AUC 0.5 for it).
    """
    labels, counts = np.unique(y_true, return_counts=True)
    f1s = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    if len(labels) == 2:
        minority_f1 = float(f1s[int(np.argmin(counts))])
    else:
        minority_f1 = float(f1s.min())
    position = {str(c): i for i, c in enumerate(model_classes)}

    def prob(cls: str) -> np.ndarray:
        return proba[:, position[cls]] if cls in position else np.zeros(len(y_true))

    if len(labels) < 2:
        auc = float("nan")
    elif len(labels) == 2:
        minority = labels[int(np.argmin(counts))]
        auc = float(roc_auc_score(y_true == minority, prob(minority)))
    else:
        auc = float(np.mean([roc_auc_score(y_true == c, prob(c)) for c in labels]))
    return {
        "macro_f1": float(f1s.mean()),
        "minority_f1": minority_f1,
        "balanced_accuracy": float(recall_score(y_true, y_pred, labels=labels, average="macro",
                                                zero_division=0)),
        "roc_auc": auc,
    }


@dataclass(frozen=True)
class UtilityReport:
    """Scores of the utility models on the real test table.

    Attributes:
        scores: index ``model`` (the models, then ``mean``), one column per metric.
        minority_class: the rarest class of the test table.
        n_train: labelled training rows the models were fitted on.
        class_f1: every class of the test table -> its F1, mean over the models (a class the
            models never predict scores 0), in test-label order.
    """

    scores: pd.DataFrame
    minority_class: str
    n_train: int
    class_f1: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = set(UTILITY_METRICS) - set(self.scores.columns)
        if missing or "mean" not in self.scores.index:
            raise InvalidDataError(f"utility scores need a 'mean' row and columns "
                                   f"{list(UTILITY_METRICS)}")

    @property
    def mean(self) -> dict[str, float]:
        """Metric -> mean over the models."""
        return {k: float(v) for k, v in self.scores.loc["mean"].items()}

    def to_frame(self) -> pd.DataFrame:
        """Long frame (model, metric, value)."""
        return (self.scores.rename_axis("model").reset_index()
                .melt(id_vars="model", var_name="metric", value_name="value"))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "scores": {m: {k: float(v) for k, v in row.items()}
                       for m, row in self.scores.iterrows()},
            "minority_class": self.minority_class,
            "n_train": self.n_train,
            "class_f1": dict(self.class_f1),
        }


def ml_utility(
    train: pd.DataFrame,
    test: pd.DataFrame,
    label: str,
    discrete_columns: Sequence[str],
    models: Sequence[str] = MODELS,
    seed: int = 0,
) -> UtilityReport:
    """Fit the utility models on ``train`` and score them on ``test``.

    Args:
        train: training rows (synthetic for TSTR, real for TRTR).
        test: real test rows.
        label: the label column.
        discrete_columns: categorical columns (the label may be listed; it is never a feature).
        models: any of ``lr``, ``dt``, ``rf``, ``hgb``.
        seed: seed of the tree models.

    Returns:
        The :class:`UtilityReport`. A training table with a single class gives constant
        predictions (AUC 0.5) instead of an error.

    Raises:
        InvalidDataError: a table is empty or lacks the label, or no feature is shared.
        ConfigError: an unknown or no model name.
    """
    check_frame(train, "training", [label])
    check_frame(test, "test", [label])
    if not models:
        raise ConfigError("ml_utility needs at least one model")
    estimators = {m: _classifier(m, seed) for m in models}
    discrete, continuous = split_columns([train, test], discrete_columns, exclude=[label])
    if not discrete and not continuous:
        raise InvalidDataError("the training and test tables share no feature column")
    x_train, y_train = _xy(train, label, discrete, continuous)
    x_test, y_test = _xy(test, label, discrete, continuous)
    if len(y_train) == 0 or len(y_test) == 0:
        raise InvalidDataError("a table has no labelled row", column=label)
    single = len(np.unique(y_train)) < 2
    labels, counts = np.unique(y_test, return_counts=True)
    rows, per_class = {}, []
    for name, estimator in estimators.items():
        model = DummyClassifier(strategy="most_frequent") if single else estimator
        pipe = feature_pipeline(discrete, continuous, model)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            pipe.fit(x_train, y_train)
        for w in caught:
            if issubclass(w.category, ConvergenceWarning):
                logger.info("utility model %s did not fully converge: %s", name, w.message)
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        predicted = pipe.predict(x_test)
        rows[name] = score_predictions(y_test, predicted, pipe.predict_proba(x_test),
                                       [str(c) for c in pipe.classes_])
        per_class.append(f1_score(y_test, predicted, labels=labels, average=None,
                                  zero_division=0))
    scores = pd.DataFrame.from_dict(rows, orient="index")[list(UTILITY_METRICS)]
    scores.loc["mean"] = scores.mean(axis=0)
    scores.index.name = "model"
    class_f1 = dict(zip(map(str, labels), map(float, np.mean(per_class, axis=0))))
    return UtilityReport(scores=scores, minority_class=str(labels[int(np.argmin(counts))]),
                         n_train=len(y_train), class_f1=class_f1)


def tstr_vs_trtr(
    synthetic: pd.DataFrame,
    real_train: pd.DataFrame,
    test: pd.DataFrame,
    label: str,
    discrete_columns: Sequence[str],
    models: Sequence[str] = MODELS,
    seed: int = 0,
) -> pd.DataFrame:
    """TSTR (fit on synthetic) against TRTR (fit on real training rows), both on ``test``.

    Returns:
        Columns ``model, metric, tstr, trtr, ratio`` (ratio = tstr / trtr, NaN when trtr is 0),
        one row per model and metric plus rows with model ``mean``.
    """
    tstr = ml_utility(synthetic, test, label, discrete_columns, models, seed).to_frame()
    trtr = ml_utility(real_train, test, label, discrete_columns, models, seed).to_frame()
    out = tstr.merge(trtr, on=["model", "metric"], suffixes=("_tstr", "_trtr"))
    out = out.rename(columns={"value_tstr": "tstr", "value_trtr": "trtr"})
    denominator = out["trtr"].where(out["trtr"] != 0)
    out["ratio"] = out["tstr"] / denominator
    return out[["model", "metric", "tstr", "trtr", "ratio"]]


def per_party_utility(
    synthetic_by_party: Mapping[str, pd.DataFrame],
    real_by_party: Mapping[str, pd.DataFrame],
    test: pd.DataFrame,
    label: str,
    discrete_columns: Sequence[str],
    models: Sequence[str] = MODELS,
    seed: int = 0,
) -> pd.DataFrame:
    """:func:`tstr_vs_trtr` per party: each party's synthetic rows against its real rows, both
    scored on the shared real ``test`` table.

    Returns:
        Columns ``party, model, metric, tstr, trtr, ratio``.

    Raises:
        InvalidDataError: a party has synthetic rows but no real table.
    """
    if not synthetic_by_party:
        raise InvalidDataError("per_party_utility needs at least one party")
    frames = []
    for party, synthetic in synthetic_by_party.items():
        if party not in real_by_party:
            raise InvalidDataError("party has synthetic rows but no real table", party=party)
        try:
            table = tstr_vs_trtr(synthetic, real_by_party[party], test, label, discrete_columns,
                                 models, seed)
        except InvalidDataError as err:
            raise InvalidDataError(str(err), party=party) from err
        frames.append(table.assign(party=party))
    out = pd.concat(frames, ignore_index=True)
    return out[["party", "model", "metric", "tstr", "trtr", "ratio"]]
