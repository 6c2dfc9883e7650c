"""Distance to closest record (DCR): does the synthetic table sit closer to the training rows than
unseen real rows do?

All tables are encoded identically (:mod:`dagan_core.metrics.record_encoding`) with an encoder
fitted on the training rows. Distances are Euclidean, to the nearest training row. Compared
columns are those shared by the three tables except the party column; the label, when present,
is part of the record.
The report also carries a membership-inference audit (:mod:`dagan_core.metrics.membership`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from dagan_core.errors import ConfigError, InvalidDataError
from dagan_core.metrics.base import check_frame, split_columns
from dagan_core.metrics.membership import membership_inference_audit
from dagan_core.metrics.record_encoding import column_encoder, prepare_columns, subsample

logger = logging.getLogger(__name__)

EXACT_COPY_TOLERANCE = 1e-8


def closest_record_distances(
    train: pd.DataFrame,
    queries: pd.DataFrame,
    discrete_columns: Sequence[str],
    party_column: str | None = "party",
) -> np.ndarray:
    """Distance of each row of ``queries`` to its nearest row of ``train`` (encoding above)."""
    discrete, continuous = split_columns([train, queries], discrete_columns,
                                         exclude=[party_column])
    if not discrete and not continuous:
        raise InvalidDataError("the tables share no column to compare")
    encoder = column_encoder(discrete, continuous)
    train_x = encoder.fit_transform(prepare_columns(train, discrete, continuous))
    query_x = encoder.transform(prepare_columns(queries, discrete, continuous))
    neighbours = NearestNeighbors(n_neighbors=1).fit(train_x)
    distances, _ = neighbours.kneighbors(query_x)
    return distances[:, 0]


def privacy_report(
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame,
    discrete_columns: Sequence[str],
    seed: int = 0,
    max_rows: int = 5000,
    party_column: str | None = "party",
) -> dict[str, float]:
    """DCR of synthetic rows and of real holdout rows (never used for training) to the training
    rows.

    Args:
        train: the real rows the generator was trained on.
        synthetic: the generated rows.
        holdout: real rows the generator never saw (e.g. the test table).
        discrete_columns: categorical columns.
        seed: seed of the subsamples.
        max_rows: synthetic and holdout rows are each subsampled to at most this many.
        party_column: ignored as a feature.

    Returns:
        ``dcr_synth_p5`` and ``dcr_holdout_p5`` (5th percentiles), their medians
        (``dcr_synth_median``, ``dcr_holdout_median``), ``dcr_ratio`` = synth p5 / holdout p5 (NaN
        when the holdout p5 is 0; below 1 means synthetic rows are closer to the training rows
        than fresh real rows are), ``exact_copy_rate_synth`` / ``exact_copy_rate_holdout``
        (share of rows at distance <= 1e-8 of a training row), ``n_synth``, ``n_holdout``,
        and the membership-inference audit of
        :func:`~dagan_core.metrics.membership.membership_inference_audit` (training rows as
        members, ``holdout`` as non-members): ``mia_auc`` (0.5 = no signal) and
        ``mia_candidates``.
    """

    if max_rows < 1:
        raise ConfigError(f"max_rows={max_rows!r} is invalid: must be >= 1")
    check_frame(train, "training")
    check_frame(synthetic, "synthetic")
    check_frame(holdout, "holdout")
    rng = np.random.default_rng(seed)
    synth = subsample(synthetic, max_rows, rng)
    hold = subsample(holdout, max_rows, rng)
    discrete, continuous = split_columns([train, synthetic, holdout], discrete_columns,
                                         exclude=[party_column])
    cols = discrete + continuous
    d_synth = closest_record_distances(train[cols], synth[cols], discrete, party_column)
    d_hold = closest_record_distances(train[cols], hold[cols], discrete, party_column)
    synth_p5 = float(np.percentile(d_synth, 5))
    hold_p5 = float(np.percentile(d_hold, 5))
    report = {
        "dcr_synth_p5": synth_p5,
        "dcr_holdout_p5": hold_p5,
        "dcr_ratio": synth_p5 / hold_p5 if hold_p5 > 0 else float("nan"),
        "dcr_synth_median": float(np.median(d_synth)),
        "dcr_holdout_median": float(np.median(d_hold)),
        "exact_copy_rate_synth": float(np.mean(d_synth <= EXACT_COPY_TOLERANCE)),
        "exact_copy_rate_holdout": float(np.mean(d_hold <= EXACT_COPY_TOLERANCE)),
        "n_synth": float(len(d_synth)),
        "n_holdout": float(len(d_hold)),
        **membership_inference_audit(train[cols], holdout[cols], synthetic[cols], discrete,
                                     seed=seed, party_column=party_column),
    }
    logger.debug("privacy: %s", report)
    return report
