"""Run configuration of the evaluation asset."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from pipelines import settings


class EvaluationConfig(dg.Config):
    """Which utility models to fit and how much data they see."""

    models: list[str] = Field(
        default=["lr", "dt", "rf", "hgb"],
        description="Utility models fitted for TSTR and TRTR (logistic regression, decision "
        "tree, random forest, histogram gradient boosting): any of lr, dt, rf, hgb.",
    )
    per_party: bool = Field(default=True, description="Also score TSTR/TRTR party by party.")
    detection: bool = Field(
        default=False, description="Also fit a real-vs-synthetic classifier (AUC; slower)."
    )
    max_rows: int = Field(
        default=20000,
        ge=0,
        description="Cap on real, synthetic and test rows each (seeded subsample); 0 = no cap.",
    )
    seed: int = Field(default=0, description="Seed of models and subsamples.")
    threads: int | None = Field(
        default=None,
        ge=1,
        description="BLAS/OpenMP (and torch) threads of the utility models; empty = "
        "DAGAN_THREADS, else min(cores - 1, 4). Few threads avoid oversubscription when steps "
        "share a few cores (in one process after torch trained, more threads than idle cores "
        "made the scikit-learn models over 20x slower).",
    )
    test_set_path: str | None = Field(
        default=None,
        description="Real held-out table (CSV or Parquet), the test set of TSTR/TRTR and the "
        "unseen rows of the privacy check; default: settings.test_set_path() (DAGAN_TEST_SET).",
    )

    def test_set_file(self) -> Path:
        """The real held-out table: ``test_set_path`` if set, else ``DAGAN_TEST_SET``."""
        return Path(self.test_set_path) if self.test_set_path else settings.test_set_path()
