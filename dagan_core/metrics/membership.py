"""Membership-inference audit: the distance-to-closest-synthetic-record attack.

An attacker holds the released synthetic table and a real record, and wants to know whether the
record was one of the training rows. The attack scores the record by minus its distance to the
nearest synthetic row: a generator that memorised training rows puts synthetic rows next to them,
so training rows (members) score higher than real rows from the same population that the
generator never saw (non-members). This is the full black-box attack of the GAN-Leaks taxonomy
(D. Chen, N. Yu, Y. Zhang, M. Fritz, "GAN-Leaks: A Taxonomy of Membership Inference Attacks
against Generative Models", ACM CCS 2020), the distance-based form of the Monte Carlo attack of
B. Hilprecht, M. Härterich, D. Bernau, "Monte Carlo and Reconstruction Membership Inference
Attacks against Generative Models", PoPETs 2019.

The audit reports the attack's ROC-AUC on equally many members and non-members: 0.5 means the
synthetic table does not tell them apart; 1.0 means every member has a closer synthetic neighbour
than every non-member. Records are encoded as in :mod:`dagan_core.metrics.record_encoding` (one-hot
discrete columns, min-max-scaled continuous columns), with the encoder fitted on the candidate
records (members and non-members together) so that neither side is favoured.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors

from dagan_core.errors import ConfigError, InvalidDataError
from dagan_core.metrics.base import check_frame, split_columns
from dagan_core.metrics.record_encoding import column_encoder, prepare_columns, subsample

logger = logging.getLogger(__name__)


def membership_inference_audit(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    discrete_columns: Sequence[str],
    seed: int = 0,
    max_candidates: int = 2000,
    max_synthetic: int = 10000,
    party_column: str | None = "party",
) -> dict[str, float]:
    """ROC-AUC of the distance-to-closest-synthetic-record attack (see module docstring).

    Args:
        train: the real rows the generator was trained on (members).
        holdout: real rows of the same population never used for training (non-members).
        synthetic: the released rows.
        discrete_columns: categorical columns.
        seed: seed of the subsamples.
        max_candidates: members and non-members are each subsampled to
            ``min(len(train), len(holdout), max_candidates)`` rows.
        max_synthetic: the synthetic table is subsampled to at most this many rows.
        party_column: ignored as a feature.

    Returns:
        ``mia_auc`` (0.5 = no membership signal, higher = leak) and ``mia_candidates`` (members,
        equal to non-members).

    Raises:
        InvalidDataError: a table is empty or the tables share no column.
    """
    if max_candidates < 1 or max_synthetic < 1:
        raise ConfigError("max_candidates and max_synthetic must be >= 1")
    check_frame(train, "training")
    check_frame(holdout, "holdout")
    check_frame(synthetic, "synthetic")
    rng = np.random.default_rng(seed)
    n = min(len(train), len(holdout), max_candidates)
    members = subsample(train, n, rng)
    others = subsample(holdout, n, rng)
    released = subsample(synthetic, max_synthetic, rng)
    discrete, continuous = split_columns([train, holdout, synthetic], discrete_columns,
                                         exclude=[party_column])
    if not discrete and not continuous:
        raise InvalidDataError("the tables share no column to compare")
    candidates = pd.concat([members, others], ignore_index=True)
    encoder = column_encoder(discrete, continuous)
    candidate_x = encoder.fit_transform(prepare_columns(candidates, discrete, continuous))
    released_x = encoder.transform(prepare_columns(released, discrete, continuous))
    distances, _ = NearestNeighbors(n_neighbors=1).fit(released_x).kneighbors(candidate_x)
    is_member = np.r_[np.ones(len(members)), np.zeros(len(others))]
    auc = float(roc_auc_score(is_member, -distances[:, 0]))
    logger.debug("membership inference: AUC %.3f on %d + %d candidates", auc, n, n)
    return {"mia_auc": auc, "mia_candidates": float(n)}
