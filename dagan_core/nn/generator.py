"""The party-conditioned generator G(z, e_p, c)."""

from __future__ import annotations

import torch
from torch import nn

from dagan_core.data.layout import TANH, ColumnLayout
from dagan_core.nn.layers import gumbel_softmax


class Residual(nn.Module):
    """Linear -> BatchNorm -> ReLU, concatenated with its input."""

    def __init__(self, i: int, o: int):
        """Create the block."""
        super().__init__()
        self.fc = nn.Linear(i, o)
        self.bn = nn.BatchNorm1d(o)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block."""
        return torch.cat([torch.relu(self.bn(self.fc(x))), x], dim=1)


class Generator(nn.Module):
    """Residual MLP over [z, party code, conditional vector] with per-span output heads."""

    def __init__(
        self, layout: ColumnLayout, n_parties: int, embedding_dim: int,
        party_embedding_dim: int, dims: tuple[int, ...],
    ):
        """Create the network for a column layout and a number of party codes."""
        super().__init__()
        self.layout = layout
        self.party_embedding = nn.Embedding(n_parties, party_embedding_dim)
        width = embedding_dim + party_embedding_dim + layout.cond_dim
        blocks = []
        for d in dims:
            blocks.append(Residual(width, d))
            width += d
        self.body = nn.Sequential(*blocks)
        self.head = nn.Linear(width, layout.data_dim)

    def forward(self, z: torch.Tensor, party: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """Raw (pre-activation) outputs."""
        h = torch.cat([z, self.party_embedding(party), cond], dim=1)
        return self.head(self.body(h))

    def activate(
        self, raw: torch.Tensor, tau: float, generator: torch.Generator
    ) -> torch.Tensor:
        """Apply tanh to alpha spans and Gumbel-softmax to mode/category spans."""
        parts = []
        for span in self.layout.spans:
            x = raw[:, span.start:span.end]
            parts.append(torch.tanh(x) if span.activation == TANH
                         else gumbel_softmax(x, tau, generator))
        return torch.cat(parts, dim=1)


def conditional_loss(raw: torch.Tensor, layout: ColumnLayout, blocks: torch.Tensor,
                     cats: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of the conditioned column's logits against the asked category."""
    total = raw.new_zeros(())
    for b, block in enumerate(layout.cond_blocks):
        sel = blocks == b
        if not bool(sel.any()):
            continue
        logits = raw[sel, block.data_start:block.data_start + block.width]
        total = total + nn.functional.cross_entropy(logits, cats[sel], reduction="sum")
    return total / max(len(blocks), 1)
