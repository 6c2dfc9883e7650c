"""One call that scores a synthetic table on utility, similarity and privacy (DESIGN 4)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dagan_core.errors import InvalidDataError
from dagan_core.metrics.base import category_strings, check_frame
from dagan_core.metrics.privacy import privacy_report
from dagan_core.metrics.similarity import similarity_report
from dagan_core.metrics.utility import MODELS, per_party_utility, tstr_vs_trtr

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvaluationReport:
    """Utility, similarity and privacy of one synthetic table.

    Attributes:
        utility: :func:`~dagan_core.metrics.utility.tstr_vs_trtr` frame (model, metric, tstr,
            trtr, ratio).
        similarity: :func:`~dagan_core.metrics.similarity.similarity_report` output.
        privacy: :func:`~dagan_core.metrics.privacy.privacy_report` output.
        per_party: :func:`~dagan_core.metrics.utility.per_party_utility` frame, or None.
    """

    utility: pd.DataFrame
    similarity: dict[str, float]
    privacy: dict[str, float]
    per_party: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        needed = {"model", "metric", "tstr", "trtr", "ratio"}
        if not needed <= set(self.utility.columns):
            raise InvalidDataError(f"the utility frame needs the columns {sorted(needed)}")

    def summary(self) -> dict[str, float]:
        """Flat metric -> value: ``tstr_<metric>``, ``trtr_<metric>`` and ``ratio_<metric>``
        (means over the models), then the similarity and privacy entries."""
        out: dict[str, float] = {}
        mean = self.utility[self.utility["model"] == "mean"]
        for kind in ("tstr", "trtr", "ratio"):
            out.update({f"{kind}_{m}": float(v) for m, v in zip(mean["metric"], mean[kind])})
        out.update(self.similarity)
        out.update(self.privacy)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (NaN stays a float NaN)."""
        def records(frame: pd.DataFrame | None) -> list[dict[str, Any]] | None:
            if frame is None:
                return None
            return [{k: (float(v) if isinstance(v, float | np.floating) else v)
                     for k, v in row.items()} for row in frame.to_dict(orient="records")]

        return {
            "utility": records(self.utility),
            "similarity": dict(self.similarity),
            "privacy": dict(self.privacy),
            "per_party": records(self.per_party),
        }


def _by_party(df: pd.DataFrame, party_column: str) -> dict[str, pd.DataFrame]:
    keys = category_strings(df[party_column])
    return {str(p): df[keys == p] for p in sorted(set(keys))}


def evaluate(
    real_train: pd.DataFrame,
    synthetic: pd.DataFrame,
    test: pd.DataFrame,
    label: str,
    discrete_columns: Sequence[str],
    *,
    holdout: pd.DataFrame | None = None,
    models: Sequence[str] = MODELS,
    seed: int = 0,
    party_column: str | None = "party",
    per_party: bool = False,
    detection: bool = False,
) -> EvaluationReport:
    """Score a synthetic table against the real training and test rows.

    Args:
        real_train: the pooled real rows the generator was trained on.
        synthetic: the generated rows.
        test: the real test rows (TSTR/TRTR are scored on it).
        label: the label column.
        discrete_columns: categorical columns.
        holdout: real rows never used for training, for the DCR baseline; defaults to ``test``.
        models: utility models (``lr``, ``dt``, ``rf``, ``hgb``).
        seed: seed of every model and subsample.
        party_column: the column naming each row's party (never a feature).
        per_party: also run per-party TSTR/TRTR; needs ``party_column`` in both tables.
        detection: also compute the real-vs-synthetic classifier AUC (pooled and per party).

    Returns:
        The :class:`EvaluationReport`.

    Raises:
        InvalidDataError: a table is empty or lacks the label, or ``per_party`` is asked without
            a party column.
    """
    check_frame(real_train, "real training", [label])
    check_frame(synthetic, "synthetic", [label])
    check_frame(test, "test", [label])
    utility = tstr_vs_trtr(synthetic, real_train, test, label, discrete_columns, models, seed)
    similarity = similarity_report(real_train, synthetic, discrete_columns, label=label,
                                   party_column=party_column, detection=detection, seed=seed)
    privacy = privacy_report(real_train, synthetic, test if holdout is None else holdout,
                             discrete_columns, seed=seed, party_column=party_column)
    party_table = None
    if per_party:
        if party_column is None or party_column not in real_train or party_column not in synthetic:
            raise InvalidDataError("per-party utility needs the party column in both tables",
                                   column=party_column)
        party_table = per_party_utility(_by_party(synthetic, party_column),
                                        _by_party(real_train, party_column), test, label,
                                        discrete_columns, models, seed)
    logger.info("evaluated %d synthetic rows against %d real rows", len(synthetic),
                len(real_train))
    return EvaluationReport(utility=utility, similarity=similarity, privacy=privacy,
                            per_party=party_table)
