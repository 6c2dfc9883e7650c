"""Building blocks with explicit randomness (no global RNG is read)."""

from __future__ import annotations

import math

import torch
from torch import nn


def seeded_init_(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """Initialise every Linear / BatchNorm / Embedding of ``module`` from ``generator``.

    Mirrors torch's default schemes (Kaiming-uniform weights, fan-in uniform biases) but draws
    from the given generator, so building a network never touches the global RNG.
    """
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=generator)
            bound = 1 / math.sqrt(m.weight.shape[1])
            nn.init.uniform_(m.bias, -bound, bound, generator=generator)
        elif isinstance(m, nn.BatchNorm1d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
            m.reset_running_stats()
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, generator=generator)
        elif hasattr(m, "seeded_reset_"):
            m.seeded_reset_(generator)
    return module


def build(factory, device: torch.device, generator: torch.Generator) -> nn.Module:
    """Create a module on the meta device, materialise it on ``device`` and seed-initialise it."""
    with torch.device("meta"):
        module = factory()
    module = module.to_empty(device=device)
    return seeded_init_(module, generator)


def dropout(x: torch.Tensor, p: float, training: bool, generator: torch.Generator) -> torch.Tensor:
    """Inverted dropout drawing its mask from ``generator``."""
    if not training or p == 0:
        return x
    keep = torch.rand(x.shape, device=x.device, generator=generator) >= p
    return x * keep / (1 - p)


def gumbel_softmax(
    logits: torch.Tensor, tau: float, generator: torch.Generator, eps: float = 1e-10
) -> torch.Tensor:
    """Gumbel-softmax relaxation with noise from ``generator``."""
    u = torch.rand(logits.shape, device=logits.device, generator=generator)
    g = -torch.log(-torch.log(u + eps) + eps)
    return torch.softmax((logits + g) / tau, dim=-1)
