"""dagan_core: multi-party synthetic tabular data under double imbalance.

Public API (stable)::

    synth = make_synthesizer("dagan", epochs=100, batch_size=500, seed=0, device="auto")
    synth.fit({"party_a": df_a, "party_b": df_b}, label="income")
    rows = synth.sample(1000, party="party_a", conditions={"income": ">50K"}, seed=1)
    synth.save("model_dir")
    same = load_synthesizer("model_dir", device="cpu")

Heavy dependencies (torch, scikit-learn) are imported lazily, so importing this package is cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

from dagan_core.config import (
    STRATEGIES,
    AttentionConfig,
    FederationConfig,
    ModelConfig,
    PrivacyConfig,
    SynthesizerConfig,
    TrainConfig,
)
from dagan_core.errors import (
    ConditionError,
    ConfigError,
    DAGANError,
    InvalidDataError,
    NotFittedError,
    SchemaMismatchError,
)

_LAZY = {
    "make_synthesizer": "dagan_core.synthesizers.factory",
    "load_synthesizer": "dagan_core.synthesizers.factory",
    "Synthesizer": "dagan_core.synthesizers.base",
    "EpochStats": "dagan_core.synthesizers.base",
    "FittedModel": "dagan_core.synthesizers.fitted_model",
    "FitRun": "dagan_core.synthesizers.fit_run",
    "RemoteFederation": "dagan_core.federation.remote.federation",
}

__all__ = [
    "STRATEGIES",
    "AttentionConfig",
    "ConditionError",
    "ConfigError",
    "DAGANError",
    "EpochStats",
    "FederationConfig",
    "FitRun",
    "FittedModel",
    "InvalidDataError",
    "ModelConfig",
    "NotFittedError",
    "PrivacyConfig",
    "RemoteFederation",
    "SchemaMismatchError",
    "Synthesizer",
    "SynthesizerConfig",
    "TrainConfig",
    "load_synthesizer",
    "make_synthesizer",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dagan_core' has no attribute {name!r}")
