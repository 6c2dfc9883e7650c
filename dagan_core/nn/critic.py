"""A party's Wasserstein critic with PacGAN packing and gradient penalty.

A :class:`Critic` holds ``members`` critics of the same shape in stacked weights: layer ``i`` of
member ``k`` maps ``h`` to ``h @ weights[i][k] + biases[i][k]`` (weights stored in x out, so that
the batched products and their gradients stay contiguous). A party's own critic is a bank
of one member. Parties hosted in the same process can put their critics in one bank (see
:mod:`dagan_core.federation.colocated`): each layer is then one batched matrix product for all of
them instead of one small product per party. Members never share a parameter, and Adam works
element by element, so one Adam over a bank updates every member exactly as its own Adam would.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from dagan_core.nn.layers import dropout


class Critic(nn.Module):
    """C(x, c) on packs of ``pac`` rows: Linear -> LeakyReLU -> dropout blocks -> score."""

    def __init__(self, input_dim: int, dims: tuple[int, ...], pac: int, dropout_p: float,
                 members: int = 1):
        """Create ``members`` critics for rows of width ``input_dim`` (data + conditions)."""
        super().__init__()
        self.input_dim = input_dim
        self.pac = pac
        self.dropout_p = dropout_p
        self.members = members
        widths = [input_dim * pac, *dims, 1]
        self.weights = nn.ParameterList(
            nn.Parameter(torch.empty(members, i, o)) for i, o in zip(widths[:-1], widths[1:]))
        self.biases = nn.ParameterList(
            nn.Parameter(torch.empty(members, o)) for o in widths[1:])
        if not self.weights[0].is_meta:  # like nn.Linear: torch's global RNG unless re-seeded
            self.seeded_reset_(None)

    @torch.no_grad()
    def seeded_reset_(self, generator: torch.Generator | None) -> None:
        """Kaiming-uniform weights and fan-in uniform biases, member by member, layer by layer."""
        for k in range(self.members):
            for w, b in zip(self.weights, self.biases):
                nn.init.kaiming_uniform_(w[k].T, a=math.sqrt(5), generator=generator)
                bound = 1 / math.sqrt(w.shape[1])
                nn.init.uniform_(b[k], -bound, bound, generator=generator)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None,
                member: int | None = None, masks: list[torch.Tensor] | None = None
                ) -> torch.Tensor:
        """Scores per pack.

        Args:
            x: ``(rows, input_dim)`` rows of one member (``member``, default 0), or
                ``(members, rows, input_dim)`` rows of every member.
            generator: source of the dropout masks.
            masks: one member's dropout masks (from :meth:`dropout_masks`) to use instead of
                drawing them, so that the pass draws nothing (as ``torch.func.vmap`` needs).

        Returns:
            ``(rows // pac,)`` for one member, ``(members, rows // pac)`` for all.
        """
        if x.dim() == 2:
            h = x.reshape(-1, x.shape[1] * self.pac)
            for i, (w, b) in enumerate(zip(*self._member_params(member or 0))):
                h = torch.addmm(b, h, w)
                if i < len(self.weights) - 1:
                    h = (self._activate(h, generator) if masks is None
                         else nn.functional.leaky_relu(h, 0.2) * masks[i])
            return h.squeeze(-1)
        h = x.reshape(x.shape[0], -1, x.shape[2] * self.pac)
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.baddbmm(b[:, None, :], h, w)
            if i < len(self.weights) - 1:
                h = self._activate(h, generator)
        return h.squeeze(-1)

    def _member_params(self, k: int) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Member ``k``'s weights and biases. A one-member bank hands out views, whose backward
        is a free reshape; indexing would allocate and fill a full-size gradient per use."""
        if self.members == 1:
            return ([w.view(w.shape[1:]) for w in self.weights],
                    [b.view(b.shape[1:]) for b in self.biases])
        return [w[k] for w in self.weights], [b[k] for b in self.biases]

    def _activate(self, h: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return dropout(nn.functional.leaky_relu(h, 0.2), self.dropout_p, self.training, generator)

    # ---- one member's parameters, in the format of a one-member critic ---------------------
    def member_state(self, k: int) -> dict[str, torch.Tensor]:
        """Member ``k``'s parameters as the state dict of a one-member critic (copies)."""
        return {name: p[k:k + 1].detach().clone() for name, p in self.named_parameters()}

    @torch.no_grad()
    def load_member_state(self, k: int, state: dict[str, torch.Tensor]) -> None:
        """Write a one-member state dict (see :meth:`member_state`) into member ``k``."""
        for name, p in self.named_parameters():
            p[k:k + 1].copy_(state[name])

    def dropout_masks(self, n_packs: int, generator: torch.Generator) -> list[torch.Tensor]:
        """Scaled dropout masks (keep / (1 - p), ones when not training) of ``n_packs`` packs,
        one per hidden layer, drawn as :meth:`forward` would draw them for one member."""
        out = []
        for w in self.weights[:-1]:
            shape = (n_packs, w.shape[2])
            if not self.training or self.dropout_p == 0:
                out.append(torch.ones(shape, device=w.device))
            else:
                keep = torch.rand(shape, device=w.device, generator=generator) >= self.dropout_p
                out.append(keep / (1 - self.dropout_p))
        return out


def critic_terms(critic: Critic, real: torch.Tensor, fake: torch.Tensor,
                 generator: torch.Generator, member: int | None = None
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Scores of the real and fake packs and the WGAN-GP term (||grad|| - 1)^2 of each pack.

    One critic pass over ``[real; fake; interpolates]`` (pack-wise interpolates with uniform
    weights): each weight is used once, so its gradient is accumulated from one product
    instead of three. ``real`` and ``fake`` are ``(rows, width)`` (one member) or
    ``(members, rows, width)``; every result has one entry per pack, same leading dimension.
    """
    pac, width = critic.pac, real.shape[-1]
    lead, packs = real.shape[:-2], real.shape[-2] // pac
    eps = torch.rand(*lead, packs, 1, 1, device=real.device, generator=generator)
    eps = eps.expand(*lead, -1, pac, width).reshape(real.shape)
    mixed = (eps * real + (1 - eps) * fake).requires_grad_(True)
    scores = critic(torch.cat([real, fake, mixed], dim=-2), generator, member)
    s_real, s_fake, s_mixed = scores.split(packs, dim=-1)
    (grad,) = torch.autograd.grad(s_mixed.sum(), mixed, create_graph=True)
    norms = grad.reshape(*lead, packs, pac * width).norm(2, dim=-1)
    return s_real, s_fake, (norms - 1) ** 2
