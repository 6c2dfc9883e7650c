"""Glue of the evaluation asset: inputs, and the long tables written to the ``metrics`` schema.

Every table is keyed by ``model_version`` (one replace per version) and carries ``strategy``:

- ``metrics.utility``: model_version, strategy, scope (``pooled``|``party``), party, model,
  metric, tstr, trtr, ratio, evaluated_at
- ``metrics.similarity`` / ``metrics.privacy``: model_version, strategy, metric, party, value,
  direction (``maximize``|``minimize``|NULL), evaluated_at
- ``metrics.column_fidelity``: model_version, strategy, column_name, kind, metric, value,
  evaluated_at
- ``metrics.real_class_mix`` / ``metrics.synthetic_class_mix``: model_version, party,
  label_value, n (counts only)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd

from pipelines.defs.synthesis.sampling import real_class_mix, synthetic_class_mix
from pipelines.resources.party_store import PartyStore

KEY = "model_version"

#: COMMENT of each ``metrics`` table.
COMMENTS = {
    "utility": "TSTR (fit on synthetic) vs TRTR (fit on real training rows), scored on the real "
    "test set; per utility model and metric, pooled and per party (scope).",
    "similarity": "Similarity of synthetic to real rows (JS distance, scaled Wasserstein, "
    "correlation gap, per-party class-mix distance); direction says which way is better.",
    "privacy": "Distance to closest record: synthetic-to-train against holdout-to-train "
    "(5th percentiles, medians, ratio), exact-copy rates, and the membership-inference AUC of "
    "the distance-to-closest-synthetic-record attack (mia_auc; 0.5 = no signal).",
    "column_fidelity": "Per-column fidelity: JS distance (discrete) or min-max-scaled "
    "Wasserstein (continuous); lower is better.",
    "real_class_mix": "Label counts per party of the real rows the model version was trained "
    "on (counts only).",
    "synthetic_class_mix": "Label counts per party of the model version's synthetic rows.",
}


_VERSION = ("string", "Model version (model_versions partition) the row belongs to.")
_STRATEGY = ("string", "Training strategy of the model version: dagan or a baseline.")
_AT = ("timestamp", "When the metrics were computed (UTC).")
_DIRECTION = (
    "string", "Which way is better: maximize or minimize (NULL when neither applies)."
)

#: Columns of each ``metrics`` table: name -> (type, description). Column COMMENTs in the
#: warehouse and the assets' table schemas are both made from this.
COLUMNS: dict[str, dict[str, tuple[str, str]]] = {
    "utility": {
        KEY: _VERSION,
        "strategy": _STRATEGY,
        "scope": ("string", "pooled: all parties' rows together; party: one party's rows only."),
        "party": ("string", "The party scored when scope = party; NULL when pooled."),
        "model": ("string", "Utility model: lr, dt, rf, hgb, or mean (the models' average)."),
        "metric": (
            "string", "Score on the real test set: macro_f1, minority_f1, balanced_accuracy or "
            "roc_auc."
        ),
        "tstr": ("float", "Train on synthetic, test on real: score of the model fitted on the "
                 "synthetic rows."),
        "trtr": ("float", "Train on real, test on real: score of the same model fitted on the "
                 "real training rows (the reference)."),
        "ratio": ("float", "tstr / trtr; 1 means the synthetic rows are as useful as real ones."),
        "evaluated_at": _AT,
    },
    "similarity": {
        KEY: _VERSION,
        "strategy": _STRATEGY,
        "metric": ("string", "Similarity measure: jsd_mean, wasserstein_mean, corr_frobenius, "
                   "class_mix_jsd_mean, ... (see dagan_core.metrics)."),
        "party": ("string", "The party the value is about; NULL for the pooled rows."),
        "value": ("float", "The measured value."),
        "direction": _DIRECTION,
        "evaluated_at": _AT,
    },
    "privacy": {
        KEY: _VERSION,
        "strategy": _STRATEGY,
        "metric": ("string", "Privacy measure: distance to closest record of synthetic and "
                   "holdout rows to the training rows (dcr_*), exact-copy rates, "
                   "membership-inference AUC (mia_auc)."),
        "party": ("string", "The party the value is about; NULL for the pooled rows."),
        "value": ("float", "The measured value."),
        "direction": _DIRECTION,
        "evaluated_at": _AT,
    },
    "column_fidelity": {
        KEY: _VERSION,
        "strategy": _STRATEGY,
        "column_name": ("string", "Column of the shared schema."),
        "kind": ("string", "discrete or continuous."),
        "metric": ("string", "jsd (discrete columns) or wasserstein (continuous, min-max "
                   "scaled)."),
        "value": ("float", "Distance between the real and synthetic column; lower is better."),
        "evaluated_at": _AT,
    },
    "real_class_mix": {
        KEY: _VERSION,
        "party": ("string", "Party that holds the rows."),
        "label_value": ("string", "A value of the label column."),
        "n": ("int", "Real training rows of the party with that label value (a count only)."),
    },
    "synthetic_class_mix": {
        KEY: _VERSION,
        "party": ("string", "Party whose distribution generated the rows."),
        "label_value": ("string", "A value of the label column."),
        "n": ("int", "Synthetic rows of the party with that label value."),
    },
}


def column_comments(table: str) -> dict[str, str]:
    """Column name -> COMMENT text for one ``metrics`` table."""
    return {name: text for name, (_, text) in COLUMNS[table].items()}


def table_schema(table: str) -> dg.TableSchema:
    """``dg.TableSchema`` of one ``metrics`` table as defined here (before any run)."""
    return dg.TableSchema(
        columns=[dg.TableColumn(n, t, description=d) for n, (t, d) in COLUMNS[table].items()]
    )


def read_test_set(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    """The real held-out table, restricted to the training columns.

    Raises:
        FileNotFoundError / ValueError: naming the file and the missing columns.
    """
    if not path.is_file():
        raise FileNotFoundError(f"real test set not found at {path} (set DAGAN_TEST_SET)")
    frame = pd.read_parquet(path) if path.suffix in (".parquet", ".pq") else pd.read_csv(path)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: the test set lacks the training columns {missing}")
    return frame[list(columns)]


def pooled_real_rows(party_store: PartyStore, parties: Sequence[str]) -> pd.DataFrame:
    """Every party's validated rows with a ``party`` column (evaluation-only read, see asset)."""
    return pd.concat(
        [party_store.read_validated(p).assign(party=p) for p in parties], ignore_index=True
    )


def cap_rows(frame: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    """A seeded subsample of at most ``max_rows`` rows (0 = all), row order kept."""
    if not max_rows or len(frame) <= max_rows:
        return frame
    rng = np.random.default_rng(seed)
    return frame.iloc[np.sort(rng.choice(len(frame), size=max_rows, replace=False))]


def _stamp(
    frame: pd.DataFrame, version: str, strategy: str | None, at: datetime | None
) -> pd.DataFrame:
    front = {KEY: version} if strategy is None else {KEY: version, "strategy": strategy}
    out = frame.copy()
    for position, (name, value) in enumerate(front.items()):
        out.insert(position, name, pd.Series([value] * len(out), index=out.index, dtype="string"))
    if at is not None:
        out["evaluated_at"] = pd.Timestamp(at)
    return out.reset_index(drop=True)


def _text(values: Sequence[Any]) -> pd.Series:
    return pd.Series(list(values), dtype="string")


def utility_table(utility: pd.DataFrame, per_party: pd.DataFrame | None) -> pd.DataFrame:
    """Pooled and per-party TSTR/TRTR in one long frame."""
    pooled = utility.assign(scope="pooled", party=_text([None] * len(utility)))
    frames = [pooled]
    if per_party is not None and len(per_party):
        frames.append(per_party.assign(scope="party"))
    out = pd.concat(frames, ignore_index=True)
    out["scope"] = out["scope"].astype("string")
    out["party"] = out["party"].astype("string")
    cols = ["scope", "party", "model", "metric", "tstr", "trtr", "ratio"]
    return out[cols].astype({"tstr": float, "trtr": float, "ratio": float})


def named_values(report: Mapping[str, float], directions: Mapping[str, str]) -> pd.DataFrame:
    """``{"metric": v, "metric:party": v}`` → rows (metric, party, value, direction)."""
    rows = []
    for key, value in report.items():
        metric, _, party = str(key).partition(":")
        rows.append((metric, party or None, float(value), directions.get(metric)))
    frame = pd.DataFrame(rows, columns=["metric", "party", "value", "direction"])
    return frame.astype({"metric": "string", "party": "string", "direction": "string"})


def score(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    test: pd.DataFrame,
    record: Mapping[str, Any],
    config: Any,
) -> tuple[Any, pd.DataFrame]:
    """dagan_core's evaluation report and per-column fidelity (inputs capped per config)."""
    from threadpoolctl import threadpool_limits  # comes with scikit-learn

    from dagan_core import metrics  # scikit-learn: imported at run time only

    label, discrete, seed, cap = (
        record["label"], record["discrete_columns"], config.seed, config.max_rows
    )
    with threadpool_limits(limits=config.threads):
        report = metrics.evaluate(
            cap_rows(real, cap, seed), cap_rows(synthetic, cap, seed), cap_rows(test, cap, seed),
            label, discrete, models=config.models, seed=seed, per_party=config.per_party,
            detection=config.detection,
        )
        return report, metrics.column_fidelity(real, synthetic, discrete)


def metrics_tables(
    version: str,
    record: Mapping[str, Any],
    report: Any,
    fidelity: pd.DataFrame,
    synthetic: pd.DataFrame,
    at: datetime,
) -> dict[str, pd.DataFrame]:
    """``table name in schema metrics`` → frame, for one model version."""
    from dagan_core.metrics import METRIC_DIRECTIONS as directions

    strategy = record["strategy"]
    return {
        "utility": _stamp(utility_table(report.utility, report.per_party), version, strategy, at),
        "similarity": _stamp(named_values(report.similarity, directions), version, strategy, at),
        "privacy": _stamp(named_values(report.privacy, directions), version, strategy, at),
        "column_fidelity": _stamp(
            fidelity.rename(columns={"column": "column_name"}), version, strategy, at
        ),
        "real_class_mix": _stamp(real_class_mix(record), version, None, None),
        "synthetic_class_mix": _stamp(
            synthetic_class_mix(synthetic, record["label"]), version, None, None
        ),
    }


def headline(report: Any) -> pd.DataFrame:
    """Mean-over-models TSTR, TRTR and ratio per metric (pooled)."""
    mean = report.utility[report.utility["model"] == "mean"]
    return mean[["metric", "tstr", "trtr", "ratio"]].reset_index(drop=True)
