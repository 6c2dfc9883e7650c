"""Parties hosted in one process, their critics run as one bank.

In a real deployment every party runs its critic on its own machine, all at the same time. When
several parties are simulated in one process, running their small critics one after the other
costs one set of kernel launches and autograd nodes per party; on a CPU that overhead, not the
arithmetic, dominates. :class:`ColocatedCritics` keeps the critics of such parties in one
:class:`~dagan_core.nn.critic.Critic` bank (member ``k`` = party ``k``) and answers a whole
round of ``CriticStep`` or ``GeneratorStep`` messages with one batched pass.

Nothing crosses the party boundary that would not cross it otherwise: each party still builds
its own inputs from its own rows and gets its own reply, and no member reads another member's
weights. The arithmetic is that of the parties' own critics: each party's packs are padded to the
largest party's count and masked out of every mean, the losses of different members touch
disjoint parameters, and one Adam over the bank equals one Adam per member. Only the random
draws (dropout masks, interpolation weights) come from this object's generator instead of each
party's.
"""

from __future__ import annotations

from typing import Any

import torch

from dagan_core.config import SynthesizerConfig
from dagan_core.federation import messages as m
from dagan_core.federation.party import Party, critic_optimizer
from dagan_core.nn.critic import Critic, critic_terms
from dagan_core.nn.layers import build


class ColocatedCritics:
    """The critics of several co-located parties of the same pack size and input width."""

    def __init__(self, parties: list[Party], config: SynthesizerConfig, *, seed: int,
                 device: torch.device):
        """Build the bank, move each party's critic (weights and Adam state) into it."""
        first = parties[0].critic
        shape = (first.input_dim, first.pac)
        if any((p.critic.input_dim, p.critic.pac) != shape for p in parties):
            raise ValueError("co-located critics must share pack size and input width")
        self.config = config
        self.device = device
        self.names = [p.name for p in parties]
        self._parties = {p.name: p for p in parties}
        self.torch_gen = torch.Generator(device=device)
        self.torch_gen.manual_seed(seed)
        mc = config.model
        self.bank = build(lambda: Critic(first.input_dim, mc.critic_dims, first.pac,
                                         mc.critic_dropout, members=len(parties)),
                          device, self.torch_gen)
        self.optimizer = critic_optimizer(self.bank, config)
        for k, party in enumerate(parties):
            party.attach_critic(self.bank, k, self.optimizer)

    def handles(self, message: object) -> bool:
        """Whether a round of this message type is answered in one batched pass."""
        return isinstance(message, (m.CriticStep, m.GeneratorStep))

    def handle_round(self, names: list[str], messages: list[Any]) -> list[Any]:
        """Answer one message per party (all of one type, every party of the bank once)."""
        if sorted(names) != sorted(self.names) or len({type(x) for x in messages}) != 1:
            raise ValueError("a batched round needs one message of one type per member")
        fakes = dict(zip(names, (x.fake_rows for x in messages)))
        batched = self._critic_step if isinstance(messages[0], m.CriticStep) else self._feedback
        replies = dict(zip(self.names, batched([fakes[n] for n in self.names])))
        return [replies[n] for n in names]

    # ---- batched passes ---------------------------------------------------------------------
    def _pad(self, blocks: list[torch.Tensor], rows: int) -> torch.Tensor:
        out = blocks[0].new_zeros(len(blocks), rows, blocks[0].shape[1])
        for k, b in enumerate(blocks):
            out[k, : len(b)] = b
        return out

    def _mask(self, counts: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        c = torch.as_tensor(counts, device=self.device)
        mask = torch.arange(max(counts), device=self.device)[None, :] < c[:, None]
        return mask, c.to(torch.float32)

    def _critic_step(self, fakes: list[torch.Tensor]) -> list[m.CriticReport]:
        pac = self.bank.pac
        inputs = [self._parties[n].critic_step_inputs(f) for n, f in zip(self.names, fakes)]
        counts = [len(r) // pac for r, _ in inputs]
        rows = max(counts) * pac
        real = self._pad([r for r, _ in inputs], rows)
        fake = self._pad([f for _, f in inputs], rows)
        mask, n = self._mask(counts)
        self.bank.train()
        s_real, s_fake, pen = critic_terms(self.bank, real, fake, self.torch_gen)
        zero = s_real.new_zeros(())
        w_dist = (torch.where(mask, s_real, zero).sum(1) - torch.where(mask, s_fake, zero).sum(1)
                  ) / n
        gp = torch.where(mask, pen, zero).sum(1) / n
        loss = -w_dist + self.config.train.gp_lambda * gp
        self.optimizer.zero_grad(set_to_none=True)
        loss.sum().backward()
        self.optimizer.step()
        for name in self.names:
            self._parties[name].guide_step()
        stats = torch.stack([loss, w_dist, gp], dim=1).tolist()
        return [m.CriticReport(*row) for row in stats]

    def _feedback(self, fakes: list[torch.Tensor]) -> list[m.GeneratorFeedback]:
        pac = self.bank.pac
        conds = [self._parties[n].feedback_conditions() for n in self.names]
        counts = [len(f) // pac for f in fakes]
        rows = max(counts) * pac
        fake = self._pad([f.detach().to(self.device) for f in fakes], rows).requires_grad_(True)
        cond = self._pad([c for c, _ in conds], rows)
        mask, n = self._mask(counts)
        self.bank.train()
        scores = self.bank(torch.cat([fake, cond], dim=2), self.torch_gen)
        scores = torch.where(mask, scores, scores.new_zeros(()))
        (grad,) = torch.autograd.grad(-scores.sum(), fake)
        losses = (-scores.detach().sum(1) / n).tolist()
        parties = [self._parties[name] for name in self.names]
        return [m.GeneratorFeedback(p.guided(grad[k, : len(f)], f), w, losses[k])
                for k, (p, f, (_, w)) in enumerate(zip(parties, fakes, conds))]

    # ---- state ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The generator of the batched random draws (the weights are saved by each party)."""
        return {"torch_gen": self.torch_gen.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.torch_gen.set_state(state["torch_gen"].cpu())
