"""Differential privacy of a party's critic: DP-SGD over PacGAN packs, with an RDP accountant.

One *sample* of DP-SGD is one PacGAN pack: ``pac`` real rows, the ``pac`` fake rows made for
their conditions, and the gradient-penalty interpolates between the two. A critic step under DP:

1. the party draws its real rows uniformly at random *without replacement* from its training
   rows (a row is in at most one pack of a step), and takes each condition from the row drawn
   for it (:meth:`DPCritic.draw`);
2. the gradient of each pack's own loss, ``-C(real pack) + C(fake pack) + gp_lambda * GP(pack)``,
   is computed with ``torch.func`` (``functional_call`` + ``vmap(grad)``); the gradient penalty
   reads real rows, so it is part of the clipped per-pack loss;
3. each pack's gradient is clipped to L2 norm ``dp_max_grad_norm`` (over all critic
   parameters), the clipped gradients are summed, Gaussian noise ``N(0, (sigma * C)^2)`` is
   added to every coordinate and the result is divided by the number of packs;
4. that gradient is set on the critic and the party's own Adam optimizer steps.

Dropout: the critic's dropout masks are drawn from the party's generator *before* the vectorised
map and passed in (one mask per pack and forward pass, as the ordinary step draws them), since
random draws from an explicit ``torch.Generator`` cannot run inside ``vmap``. The masks do not
depend on any row, so they do not change the analysis.

Accounting: every critic step is one step of Opacus's ``RDPAccountant`` with sample rate
``q = rows used / training rows`` (= packs used / packs in the party's training rows). The RDP
analysis of the subsampled Gaussian mechanism assumes Poisson sampling; here a step's rows are a
fixed-size sample without replacement. Using the Poisson bound for fixed-size batches is a common
approximation, not a proof: the epsilon reported is an estimate under that approximation, for
add/remove-one-row neighbouring datasets. Noise is drawn from a seeded ``torch.Generator`` (not a
cryptographically secure source). What the guarantee does and does not cover is in
docs/federation.md, section 5.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.func import functional_call, grad, vmap

from dagan_core.config import SynthesizerConfig
from dagan_core.data.layout import ColumnLayout
from dagan_core.nn.critic import Critic


def row_categories(encoded: np.ndarray, layout: ColumnLayout) -> np.ndarray:
    """Category index of every row in every discrete column, shape (rows, discrete columns)."""
    out = np.empty((len(encoded), len(layout.cond_blocks)), dtype=np.int64)
    for b, block in enumerate(layout.cond_blocks):
        out[:, b] = block.categories(encoded)
    return out


def per_pack_gradients(
    critic: Critic, real: torch.Tensor, fake: torch.Tensor, mix: torch.Tensor,
    masks: tuple[list[torch.Tensor], list[torch.Tensor], list[torch.Tensor]], gp_lambda: float,
) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gradient of each pack's critic loss with respect to every critic parameter.

    Args:
        real, fake: critic inputs (rows, width) with rows a multiple of ``critic.pac``; pack i
            is rows ``i * pac`` to ``(i + 1) * pac - 1``.
        mix: interpolation weight of each pack's gradient-penalty point, shape (packs,).
        masks: dropout masks (see :meth:`Critic.dropout_masks`) of the real, fake and
            interpolated forward passes.

    Returns:
        (name -> per-pack gradients of shape (packs, *parameter shape), per-pack loss,
        per-pack Wasserstein estimate C(real) - C(fake), per-pack gradient penalty).
    """
    pac = critic.pac
    width = real.shape[1]
    real_p = real.reshape(-1, pac, width)
    fake_p = fake.reshape(-1, pac, width)
    params = {k: v.detach() for k, v in critic.named_parameters()}

    def score(p, x, mask):
        return functional_call(critic, p, (x, None), {"masks": [mk[None] for mk in mask]})[0]

    def pack_loss(p, r, f, e, m_real, m_fake, m_mix):
        s_real = score(p, r, m_real)
        s_fake = score(p, f, m_fake)
        if gp_lambda > 0:
            g = grad(lambda x: score(p, x, m_mix))(e * r + (1 - e) * f)
            gp = (g.reshape(-1).norm(2) - 1) ** 2
        else:
            gp = s_real.new_zeros(())
        loss = s_fake - s_real + gp_lambda * gp
        return loss, (loss.detach(), (s_real - s_fake).detach(), gp.detach())

    grads, (loss, w_dist, gp) = vmap(grad(pack_loss, has_aux=True),
                                     in_dims=(None, 0, 0, 0, 0, 0, 0))(
        params, real_p, fake_p, mix, *masks)
    return grads, loss, w_dist, gp


def clip_per_pack(grads: dict[str, torch.Tensor], max_norm: float
                  ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Scale each pack's gradient to L2 norm at most ``max_norm`` (over all parameters).

    Returns:
        (clipped per-pack gradients, each pack's norm before clipping).
    """
    norms = torch.sqrt(sum(g.reshape(g.shape[0], -1).pow(2).sum(1) for g in grads.values()))
    factor = (max_norm / (norms + 1e-6)).clamp(max=1.0)
    clipped = {k: g * factor.reshape(-1, *([1] * (g.dim() - 1))) for k, g in grads.items()}
    return clipped, norms


def noisy_mean(clipped: dict[str, torch.Tensor], noise_multiplier: float, max_norm: float,
               generator: torch.Generator) -> dict[str, torch.Tensor]:
    """(sum of the clipped per-pack gradients + N(0, (sigma * C)^2) noise) / number of packs."""
    out = {}
    for k, g in clipped.items():
        total = g.sum(0)
        if noise_multiplier > 0:
            total = total + noise_multiplier * max_norm * torch.randn(
                total.shape, device=total.device, dtype=total.dtype, generator=generator)
        out[k] = total / g.shape[0]
    return out


class DPCritic:
    """A party's DP-SGD state: its sampling, its noisy critic steps and its privacy accountant."""

    def __init__(self, config: SynthesizerConfig, encoded: np.ndarray, layout: ColumnLayout,
                 pac: int):
        """Set up DP-SGD for a party whose training rows are ``encoded``.

        Raises:
            ImportError: Opacus (the accountant) is not installed.
        """
        from opacus.accountants import RDPAccountant  # imported only when DP is on

        priv = config.privacy
        self.noise_multiplier = float(priv.dp_noise_multiplier)
        self.max_grad_norm = float(priv.dp_max_grad_norm)
        self.n_train = len(encoded)
        self.delta = float(priv.dp_delta) if priv.dp_delta is not None else 1.0 / self.n_train
        self.pac = pac
        self.gp_lambda = config.train.gp_lambda
        self.label_condition_prob = config.train.label_condition_prob
        self.label_block = layout.label_block
        self.categories = row_categories(encoded, layout)
        self.accountant = RDPAccountant()

    def draw(self, n: int, rng: np.random.Generator
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``n`` conditions, each taken from a real row drawn uniformly without replacement.

        The column is the label with probability ``label_condition_prob``, otherwise any
        discrete column uniformly; the category is the drawn row's own. Beyond the party's row
        count, further rows are drawn with replacement; their packs only condition fakes and are
        left out of the critic step (see :meth:`step`).

        Returns:
            (block index, category index, row index), each of shape (n,).
        """
        k = min(n, self.n_train)
        rows = rng.choice(self.n_train, size=k, replace=False)
        if n > k:
            rows = np.concatenate([rows, rng.integers(0, self.n_train, size=n - k)])
        n_blocks = self.categories.shape[1]
        use_label = rng.random(n) < self.label_condition_prob
        blocks = np.where(use_label, self.label_block, rng.integers(0, n_blocks, size=n))
        return blocks, self.categories[rows, blocks], rows

    def step(self, critic: Critic, optimizer: torch.optim.Optimizer, real: torch.Tensor,
             fake: torch.Tensor, generator: torch.Generator) -> tuple[float, float, float]:
        """One DP-SGD step of ``critic`` on the packs of the last :meth:`draw`.

        Only the first ``min(rows, training rows) // pac`` packs are used, so no real row is in
        two packs. Records the step with the accountant.

        Returns:
            (mean loss, mean Wasserstein estimate, mean gradient penalty) over the packs used:
            computed on real rows *without* noise, for monitoring only.
        """
        n_packs = min(len(real), self.n_train) // self.pac
        used = n_packs * self.pac
        real, fake = real[:used], fake[:used]
        critic.train()
        masks_real = critic.dropout_masks(n_packs, generator)
        masks_fake = critic.dropout_masks(n_packs, generator)
        mix = torch.rand(n_packs, device=real.device, generator=generator)
        masks_mix = critic.dropout_masks(n_packs, generator)
        grads, loss, w_dist, gp = per_pack_gradients(
            critic, real, fake, mix, (masks_real, masks_fake, masks_mix), self.gp_lambda)
        clipped, _ = clip_per_pack(grads, self.max_grad_norm)
        noisy = noisy_mean(clipped, self.noise_multiplier, self.max_grad_norm, generator)
        optimizer.zero_grad(set_to_none=True)
        for name, p in critic.named_parameters():
            p.grad = noisy[name].to(p.dtype)
        optimizer.step()
        self.accountant.step(noise_multiplier=self.noise_multiplier,
                             sample_rate=used / self.n_train)
        return loss.mean().item(), w_dist.mean().item(), gp.mean().item()

    def epsilon(self) -> float:
        """Epsilon spent so far at :attr:`delta` (0 before the first step)."""
        return float(self.accountant.get_epsilon(self.delta))

    def state_dict(self) -> dict[str, Any]:
        """The accountant's history: (noise multiplier, sample rate, steps) runs."""
        return {"history": [[float(s), float(q), int(n)] for s, q, n in self.accountant.history]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`, so that epsilon continues after a resume."""
        self.accountant.history = [(float(s), float(q), int(n)) for s, q, n in state["history"]]
