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


def class_cell_weights(
    counts: np.ndarray, class_gaps: np.ndarray, config: AttentionConfig
) -> np.ndarray:
    """Per-class cross-party weights q[p, k] over (party, label class) cells; they sum to 1.

    ``counts[p, k]`` is party p's row count of class k, ``class_gaps[p, k]`` its smoothed
    held-out separation of class k in [0, 1]. For each class k, over the parties holding it:

        a[p, k] = softmax_p(rho_c * log(n_pk / n_k) + eta_g * gap_pk), floored at alpha_floor / H_k

    (H_k holders; a class held by one party is judged by that party alone). The class's own
    weight follows the local attention's rule on pooled figures,

        pi_k ~ (n_k / N)^beta * exp(eta * sum_p a[p, k] * gap_pk),

    and q[p, k] = pi_k * a[p, k]; cells with no rows get 0. Party p's batch share is
    sum_k q[p, k] and it draws class k with probability q[p, k] / sum_k q[p, k].
    """
    counts = np.asarray(counts, dtype=float)
    gaps = np.nan_to_num(np.asarray(class_gaps, dtype=float))
    held = counts > 0
    n_k = counts.sum(axis=0)
    score = np.full(counts.shape, -np.inf)
    share = np.divide(counts, n_k, out=np.zeros_like(counts), where=n_k > 0)
    score[held] = config.class_rho * np.log(share[held]) + config.global_eta * gaps[held]
    top = np.where(n_k > 0, score.max(axis=0, initial=-np.inf), 0.0)
    a = np.where(held, np.exp(score - top), 0.0)
    a = np.divide(a, a.sum(axis=0), out=np.zeros_like(a), where=n_k > 0)
    n_holders = held.sum(axis=0)
    floor = np.divide(config.alpha_floor, n_holders, out=np.zeros_like(n_k), where=n_holders > 0)
    a = np.where(held, (1 - config.alpha_floor) * a + floor, 0.0)
    class_gap = (a * gaps).sum(axis=0)
    pi = np.zeros_like(n_k)
    some = n_k > 0
    pi[some] = (n_k[some] / n_k.sum()) ** config.local_beta * np.exp(
        config.local_eta * class_gap[some])
    return a * (pi / pi.sum())
