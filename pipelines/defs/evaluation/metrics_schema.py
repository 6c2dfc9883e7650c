"""The long tables the evaluation asset writes to the ``metrics`` schema: columns, descriptions.

Every table is keyed by ``model_version`` (one replace per version) and carries ``strategy``:

- ``metrics.evaluation_settings``: model_version, strategy, setting, models, max_rows,
  real_rows, synthetic_rows, test_rows, test_set, eval_seed, detection, epochs, evaluated_at

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

import dagster as dg

KEY = "model_version"

#: COMMENT of each ``metrics`` table.
COMMENTS = {
    "evaluation_settings": "How each model version was scored (utility models, rows seen after "
    "the cap, test set, seed) and its training epochs; versions are comparable only within one "
    "setting.",
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
    "evaluation_settings": {
        KEY: _VERSION,
        "strategy": _STRATEGY,
        "setting": ("string", "The evaluation setting in words (models, rows real/synthetic/test, "
                    "test set, seed); rankings compare versions of one setting only."),
        "models": ("string", "Utility models fitted, comma-separated (lr, dt, rf, hgb)."),
        "max_rows": ("int", "Cap on real, synthetic and test rows each; 0 = no cap."),
        "real_rows": ("int", "Real training rows the utility models saw (after the cap)."),
        "synthetic_rows": ("int", "Synthetic rows the utility models saw (after the cap)."),
        "test_rows": ("int", "Real test rows scored (after the cap)."),
        "test_set": ("string", "File name of the real held-out test set."),
        "eval_seed": ("int", "Seed of the utility models and the subsamples."),
        "detection": ("bool", "Whether a real-vs-synthetic classifier was also fitted."),
        "epochs": ("int", "Training epochs of the model version (a training setting: versions "
                   "with different epochs are compared, not kept apart)."),
        "evaluated_at": _AT,
    },
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
