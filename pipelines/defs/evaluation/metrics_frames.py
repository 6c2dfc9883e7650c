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
