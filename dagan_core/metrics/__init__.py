"""Evaluation metrics (DESIGN 4): ML utility (TSTR vs TRTR), similarity and privacy (DCR,
membership inference).

Submodules import scikit-learn and scipy, so they are loaded lazily on first attribute access.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "METRIC_DIRECTIONS": "dagan_core.metrics.base",
    "MetricResult": "dagan_core.metrics.base",
    "MODELS": "dagan_core.metrics.utility",
    "UTILITY_METRICS": "dagan_core.metrics.utility",
    "UtilityReport": "dagan_core.metrics.utility",
    "ml_utility": "dagan_core.metrics.utility",
    "per_party_utility": "dagan_core.metrics.utility",
    "tstr_vs_trtr": "dagan_core.metrics.utility",
    "column_fidelity": "dagan_core.metrics.similarity",
    "detection_auc": "dagan_core.metrics.similarity",
    "similarity_report": "dagan_core.metrics.similarity",
    "closest_record_distances": "dagan_core.metrics.privacy",
    "privacy_report": "dagan_core.metrics.privacy",
    "membership_inference_audit": "dagan_core.metrics.membership",
    "EvaluationReport": "dagan_core.metrics.report",
    "evaluate": "dagan_core.metrics.report",
}

__all__ = [
    "EvaluationReport",
    "METRIC_DIRECTIONS",
    "MODELS",
    "MetricResult",
    "UTILITY_METRICS",
    "UtilityReport",
    "closest_record_distances",
    "column_fidelity",
    "detection_auc",
    "evaluate",
    "membership_inference_audit",
    "ml_utility",
    "per_party_utility",
    "privacy_report",
    "similarity_report",
    "tstr_vs_trtr",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dagan_core.metrics' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
