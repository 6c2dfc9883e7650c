"""Condition sampling inside one party, from that party's own rows.

A condition is one category of one discrete column. The column is the label with probability
``label_condition_prob`` and otherwise any discrete column uniformly (CTGAN's scheme). Categories
of the label follow the party's local-attention weights when given; other columns follow
log-frequency. Only categories the party holds are ever drawn, and each condition comes with the
index of one of the party's real rows that has it (for the critic's real batch).
"""

from __future__ import annotations

import numpy as np

from dagan_core.data.layout import ColumnLayout


class ConditionSampler:
    """Draws (column, category, matching row) triples from one party's encoded rows."""

    def __init__(self, encoded: np.ndarray, layout: ColumnLayout, label_condition_prob: float):
        """Index the party's rows by category, block by block."""
        self.layout = layout
        self.label_condition_prob = label_condition_prob
        self.counts: list[np.ndarray] = []
        self.order: list[np.ndarray] = []
        self.offsets: list[np.ndarray] = []
        self.log_freq: list[np.ndarray] = []
        for block in layout.cond_blocks:
            cats = block.categories(encoded)
            counts = np.bincount(cats, minlength=block.width)
            self.counts.append(counts)
            self.order.append(np.argsort(cats, kind="stable"))
            self.offsets.append(np.concatenate([[0], np.cumsum(counts)[:-1]]))
            lf = np.where(counts > 0, np.log1p(counts), 0.0)
            self.log_freq.append(lf / lf.sum())

    @property
    def label_counts(self) -> np.ndarray:
        """Row count of each label class at this party."""
        return self.counts[self.layout.label_block]

    def draw(
        self, n: int, rng: np.random.Generator, label_probs: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Draw ``n`` conditions.

        Returns:
            (block index, category index, matching row index), each of shape (n,).
        """
        n_blocks = len(self.layout.cond_blocks)
        label = self.layout.label_block
        use_label = rng.random(n) < self.label_condition_prob
        blocks = np.where(use_label, label, rng.integers(0, n_blocks, size=n))
        cats = np.empty(n, dtype=np.int64)
        rows = np.empty(n, dtype=np.int64)
        for b in np.unique(blocks):
            sel = np.flatnonzero(blocks == b)
            probs = label_probs if (b == label and label_probs is not None) else self.log_freq[b]
            c = rng.choice(len(probs), size=len(sel), p=probs)
            cats[sel] = c
            pick = np.floor(rng.random(len(sel)) * self.counts[b][c]).astype(np.int64)
            rows[sel] = self.order[b][self.offsets[b][c] + pick]
        return blocks, cats, rows


def cond_vectors(layout: ColumnLayout, blocks: np.ndarray, cats: np.ndarray) -> np.ndarray:
    """One-hot conditional vectors for (block, category) pairs."""
    out = np.zeros((len(blocks), layout.cond_dim), dtype=np.float32)
    starts = np.array([b.cond_start for b in layout.cond_blocks], dtype=np.int64)
    out[np.arange(len(blocks)), starts[blocks] + cats] = 1.0
    return out
