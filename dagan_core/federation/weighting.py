"""Global attention over parties and the one place where generator gradients are weighted.

Weighting rule (gradient casting): party p returns, for each fake row i it was sent, the
gradient g_i of the *sum* of its pack scores' negatives w.r.t. that row, and a local attention
weight w_i (mean 1 over its batch). The coordinator back-propagates

    sum_p sum_i  (alpha_p * w_i / m_p) * <g_i, x_i>

through the fake rows x_i into the generator, where m_p is the number of packs of party p's batch.
For one party with alpha = 1 and w = 1 this is exactly the usual WGAN generator loss
-mean_packs C(pack): so party size and batch size never scale a party's pull, only alpha does.
"""

from __future__ import annotations

import numpy as np

from dagan_core.config import AttentionConfig


def global_attention(
    sizes: np.ndarray, gaps: np.ndarray, config: AttentionConfig
) -> np.ndarray:
    """alpha = softmax(rho * log(n_p / N) + eta_g * gap_p), floored at alpha_floor / K.

    ``gaps`` are the parties' smoothed held-out separations in [0, 1]. Uniform when global
    attention is off.
    """
    k = len(sizes)
    if not config.global_attention:
        return np.full(k, 1.0 / k)
    score = config.global_rho * np.log(sizes / sizes.sum()) + config.global_eta * gaps
    score = np.exp(score - score.max())
    alpha = score / score.sum()
    return (1 - config.alpha_floor) * alpha + config.alpha_floor / k


def party_batch_sizes(alpha: np.ndarray, batch_size: int, packs: np.ndarray) -> np.ndarray:
    """Rows each party gets in a step: about alpha_p * batch_size, a multiple of its pack size."""
    n_packs = np.maximum(1, np.round(alpha * batch_size / packs)).astype(int)
    return n_packs * packs


def row_weights(alpha_p: float, local_weights: np.ndarray, n_packs: int) -> np.ndarray:
    """Per-row weight alpha_p * w_i / m_p (see module docstring)."""
    return alpha_p * local_weights / n_packs
