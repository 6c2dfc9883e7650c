"""A party's label classifier that steers generated features towards the asked class.

Conditioning on the label alone lets the generator honour the label column (the conditional
cross-entropy) while its other columns follow the pooled marginals: on Covertype (20k rows,
K=5, 20 epochs) a classifier trained on the real rows put 0 % of the generated rows asked for the
rare classes 4 and 5 into their class. With ``class_loss_weight`` > 0 each party trains a small
classifier on its own rows (features without the label span -> label) next to its critic, and
its generator feedback adds the gradient of ``class_loss_weight`` times the classifier's
cross-entropy between each label-conditioned fake row and its asked class. Rows never leave the
party: only the gradient on fake rows does, as for the critic.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from dagan_core.data.layout import ColumnLayout
from dagan_core.nn.layers import build

HIDDEN = 128
LEARNING_RATE = 1e-3


class ClassGuide:
    """One party's classifier and the class term of its generator feedback."""

    def __init__(self, layout: ColumnLayout, weight: float, seed: int, device: torch.device):
        """Build the classifier (seeded by its own generator, so the party's other random
        draws are those of a fit without it)."""
        block = layout.cond_blocks[layout.label_block]
        self.label_block, self.block = layout.label_block, block
        self.weight = weight
        self.mask = torch.ones(layout.data_dim, device=device)
        self.mask[block.data_start:block.data_start + block.width] = 0.0
        gen = torch.Generator(device=device)
        gen.manual_seed(seed)
        dim, width = layout.data_dim, block.width
        self.net = build(lambda: nn.Sequential(nn.Linear(dim, HIDDEN), nn.ReLU(),
                                               nn.Linear(HIDDEN, HIDDEN), nn.ReLU(),
                                               nn.Linear(HIDDEN, width)), device, gen)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=LEARNING_RATE)

    def train_step(self, real: torch.Tensor) -> float:
        """One update on real encoded rows; returns the cross-entropy."""
        labels = self.block.categories(real)
        self.net.train()
        loss = nn.functional.cross_entropy(self.net(real * self.mask), labels)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return float(loss.item())

    def gradient(self, fake: torch.Tensor, blocks: np.ndarray, cats: np.ndarray) -> torch.Tensor:
        """d(weight * sum of cross-entropies of the label-conditioned rows) / d fake."""
        on_label = blocks == self.label_block
        target = torch.as_tensor(np.where(on_label, cats, 0), device=fake.device,
                                 dtype=torch.long)
        on_label = torch.as_tensor(on_label, device=fake.device)
        x = fake.detach().requires_grad_(True)
        self.net.eval()
        ce = nn.functional.cross_entropy(self.net(x * self.mask), target, reduction="none")
        (grad,) = torch.autograd.grad(self.weight * (ce * on_label).sum(), x)
        return grad

    def state_dict(self) -> dict:
        """Classifier and optimizer state."""
        return {"net": self.net.state_dict(), "optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        """Inverse of :meth:`state_dict`."""
        self.net.load_state_dict(state["net"])
        self.optimizer.load_state_dict(state["optimizer"])
