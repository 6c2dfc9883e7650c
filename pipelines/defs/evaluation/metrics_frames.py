"""One model version's scores as the long frames of the ``metrics`` tables (see
:mod:`pipelines.defs.evaluation.metrics_schema` for their columns)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from pipelines.class_mix import real_class_mix, synthetic_class_mix
from pipelines.defs.evaluation.metrics_schema import KEY


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


def capped(rows: int, max_rows: int) -> int:
    """Rows a step sees of ``rows`` under the cap ``max_rows`` (0 = no cap)."""
    return min(rows, max_rows) if max_rows else rows


def evaluation_settings(
    record: Mapping[str, Any], config: Any, rows: Mapping[str, int], test_set: str
) -> pd.DataFrame:
    """One row: what the version was scored with (utility models, rows each side saw after the
    cap, test set, seed) and its training epochs; ``setting`` names the evaluation setting, so
    that versions are ranked only against versions scored the same way."""
    models = ",".join(sorted(config.models))
    seen = {side: capped(int(n), config.max_rows) for side, n in rows.items()}
    setting = (
        f"models {models}; rows real/synthetic/test {seen['real']}/{seen['synthetic']}/"
        f"{seen['test']}; test set {test_set}; seed {config.seed}"
        + ("; detection" if config.detection else "")
    )
    epochs = record.get("config", {}).get("train", {}).get("epochs")
    frame = pd.DataFrame([{
        "setting": setting, "models": models, "max_rows": int(config.max_rows),
        "real_rows": seen["real"], "synthetic_rows": seen["synthetic"], "test_rows": seen["test"],
        "test_set": test_set, "eval_seed": int(config.seed), "detection": bool(config.detection),
        "epochs": None if epochs is None else int(epochs),
    }])
    return frame.astype({"setting": "string", "models": "string", "test_set": "string",
                         "epochs": "Int64"})


def metrics_tables(
    version: str,
    record: Mapping[str, Any],
    report: Any,
    fidelity: pd.DataFrame,
    synthetic: pd.DataFrame,
    at: datetime,
    settings: pd.DataFrame,
) -> dict[str, pd.DataFrame]:
    """``table name in schema metrics`` → frame, for one model version (``settings``: its
    :func:`evaluation_settings` row)."""
    from dagan_core.metrics import METRIC_DIRECTIONS as directions

    strategy = record["strategy"]
    return {
        "evaluation_settings": _stamp(settings, version, strategy, at),
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
