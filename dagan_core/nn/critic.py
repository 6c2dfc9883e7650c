"""A party's Wasserstein critic with PacGAN packing and gradient penalty."""

from __future__ import annotations

import torch
from torch import nn

from dagan_core.nn.layers import dropout


class Critic(nn.Module):
    """C(x, c) on packs of ``pac`` rows: Linear -> LeakyReLU -> dropout blocks -> score."""

    def __init__(self, input_dim: int, dims: tuple[int, ...], pac: int, dropout_p: float):
        """Create the critic for rows of width ``input_dim`` (data + conditions)."""
        super().__init__()
        self.pac = pac
        self.dropout_p = dropout_p
        width = input_dim * pac
        self.layers = nn.ModuleList()
        for d in dims:
            self.layers.append(nn.Linear(width, d))
            width = d
        self.out = nn.Linear(width, 1)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None,
                masks: list[torch.Tensor] | None = None) -> torch.Tensor:
        """Scores of shape (rows // pac,).

        ``masks`` (from :meth:`dropout_masks`) replaces the dropout draws, so that the forward
        pass draws nothing (as needed under ``torch.func.vmap``).
        """
        h = x.reshape(-1, x.shape[1] * self.pac)
        for i, layer in enumerate(self.layers):
            h = nn.functional.leaky_relu(layer(h), 0.2)
            h = (dropout(h, self.dropout_p, self.training, generator) if masks is None
                 else h * masks[i])
        return self.out(h).squeeze(1)

    def dropout_masks(self, n_packs: int, generator: torch.Generator) -> list[torch.Tensor]:
        """Scaled dropout masks (keep / (1 - p), ones when not training) of ``n_packs`` packs.

        Drawn exactly as :func:`dropout` would draw them in :meth:`forward`.
        """
        out = []
        for layer in self.layers:
            shape = (n_packs, layer.out_features)
            dev = layer.weight.device
            if not self.training or self.dropout_p == 0:
                out.append(torch.ones(shape, device=dev))
            else:
                keep = torch.rand(shape, device=dev, generator=generator) >= self.dropout_p
                out.append(keep / (1 - self.dropout_p))
        return out


def gradient_penalty(
    critic: Critic, real: torch.Tensor, fake: torch.Tensor, generator: torch.Generator
) -> torch.Tensor:
    """WGAN-GP penalty (||grad|| - 1)^2 on pack-wise interpolates."""
    pac = critic.pac
    eps = torch.rand(real.shape[0] // pac, 1, 1, device=real.device, generator=generator)
    eps = eps.expand(-1, pac, real.shape[1]).reshape(-1, real.shape[1])
    mixed = (eps * real + (1 - eps) * fake).requires_grad_(True)
    scores = critic(mixed, generator)
    (grad,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    norms = grad.reshape(-1, pac * real.shape[1]).norm(2, dim=1)
    return ((norms - 1) ** 2).mean()
