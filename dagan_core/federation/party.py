"""A party: the only holder of its rows and of its critic.

It draws conditions from its own rows (local attention decides how often each label class is
asked for), trains its critic on its rows against fakes made for it, returns gradients on fake
rows, and measures how well fakes match rows its critic never trained on. With differential
privacy on (``dp_noise_multiplier``), the critic trains by DP-SGD
(:mod:`dagan_core.federation.dp_critic`), no holdout is kept and the fit probe is skipped.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from dagan_core.config import SynthesizerConfig
from dagan_core.data.layout import ColumnLayout
from dagan_core.data.sampler import ConditionSampler, cond_vectors
from dagan_core.errors import ConfigError, DAGANError
from dagan_core.federation import messages as m
from dagan_core.federation.class_guide import ClassGuide
from dagan_core.federation.dp_critic import DPCritic
from dagan_core.federation.fit_measures import heldout_f1, marginal_gap
from dagan_core.nn.critic import Critic, critic_terms
from dagan_core.nn.layers import build
from dagan_core.nn.member_state import load_member_optimizer_state, member_optimizer_state


def pack_size(config: SynthesizerConfig, n_train: int) -> int:
    """PacGAN pack size, reduced for tiny parties (at least 4 packs of its rows)."""
    if config.model.pac is None:
        raise ConfigError("pac=None (automatic) is resolved from the parties' label counts "
                          "before critics are built: dagan_core.federation.pack_rule.resolve_pac")
    return int(max(1, min(config.model.pac, n_train // 4)))


def rank_auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """P(score_pos > score_neg) with ties counted half (Mann-Whitney AUC)."""
    if len(pos) == 0 or len(neg) == 0:
        return 0.5
    scores = np.concatenate([pos, neg])
    order = scores.argsort(kind="stable")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    for v in np.unique(scores):  # average ranks of ties
        tie = scores == v
        if tie.sum() > 1:
            ranks[tie] = ranks[tie].mean()
    u = ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2
    return float(u / (len(pos) * len(neg)))


class Party:
    """One participant of the federation (see module docstring)."""

    def __init__(
        self, name: str, encoded: np.ndarray, layout: ColumnLayout, config: SynthesizerConfig,
        *, party_codes: np.ndarray, n_codes: int, seed: int, device: torch.device,
        pac: int | None = None, code_in_critic: bool = False,
    ):
        """Take ownership of this party's encoded rows and build its critic.

        Args:
            party_codes: party code of each row (constant except for the pooled reference).
            n_codes: number of party codes of the generator.
            code_in_critic: append the party code one-hot to the critic input (pooled critic).
        """
        self.name = name
        self.layout = layout
        self.config = config
        self.device = device
        self.rng = np.random.default_rng(seed)
        self.torch_gen = torch.Generator(device=device)
        self.torch_gen.manual_seed(seed)
        n = len(encoded)
        fed = config.federation
        n_hold = int(n * fed.holdout_fraction)
        perm = self.rng.permutation(n)
        if n_hold < fed.min_holdout_rows or config.privacy.enabled:
            n_hold = 0  # under DP the fit probe is skipped, so every row trains the critic
        hold_idx, train_idx = perm[:n_hold], np.sort(perm[n_hold:])
        self.n_rows = n
        self._rows = torch.as_tensor(encoded[train_idx], device=device)
        self._codes = party_codes[train_idx]
        self._hold_rows = encoded[hold_idx] if n_hold else None
        self._hold_codes = party_codes[hold_idx] if n_hold else None
        self._code_in_critic = code_in_critic
        self.n_codes = n_codes
        self.sampler = ConditionSampler(encoded[train_idx], layout,
                                        config.train.label_condition_prob)
        self.pac = pac or pack_size(config, len(train_idx))
        in_dim = layout.data_dim + layout.cond_dim + (n_codes if code_in_critic else 0)
        self.critic = build(lambda: Critic(in_dim, config.model.critic_dims, self.pac,
                                           config.model.critic_dropout), device, self.torch_gen)
        self.member = 0  # this party's member of the critic bank (its own bank of one, or shared)
        self.optimizer = critic_optimizer(self.critic, config)
        label_width = layout.cond_blocks[layout.label_block].width
        self.class_gap = np.zeros(label_width)
        self._pending: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._probe: tuple[torch.Tensor, np.ndarray] | None = None
        self.dp = (DPCritic(config, encoded[train_idx], layout, self.pac)
                   if config.privacy.enabled else None)
        weight = config.train.class_loss_weight
        if weight > 0 and config.privacy.enabled:
            raise ConfigError(f"party {name!r}: class_loss_weight={weight} trains a classifier on "
                              "the party's rows outside DP-SGD; set it to 0 with differential "
                              "privacy")
        self.guide = ClassGuide(layout, weight, seed + 7919, device) if weight > 0 else None

    def attach_critic(self, bank: Critic, member: int, optimizer: torch.optim.Optimizer) -> None:
        """Move this party's critic into member ``member`` of a bank of co-located parties.

        The critic's current weights and optimizer state are carried over.
        """
        critic_state = self.critic.member_state(self.member)
        optim_state = member_optimizer_state(self.optimizer, self.critic, self.member)
        self.critic, self.member, self.optimizer = bank, member, optimizer
        self.critic.load_member_state(member, critic_state)
        load_member_optimizer_state(optimizer, bank, member, optim_state)

    # ---- local attention ----------------------------------------------------------------
    def label_probs(self) -> np.ndarray | None:
        """pi over label classes: f^beta * exp(eta * gap), on classes this party holds."""
        att = self.config.attention
        if not att.local_attention:
            return None
        counts = self.sampler.label_counts.astype(float)
        held = counts > 0
        score = np.zeros_like(counts)
        score[held] = (counts[held] / counts.sum()) ** att.local_beta * np.exp(
            att.local_eta * self.class_gap[held])
        return score / score.sum()

    def _asked_mix(self, label_probs: tuple[float, ...]) -> np.ndarray:
        """The coordinator's class mix, checked: one weight per class, only on held classes."""
        probs = np.asarray(label_probs, dtype=float)
        counts = self.sampler.label_counts
        if (len(probs) != len(counts) or not np.all(probs >= 0) or probs.sum() <= 0
                or np.any(probs[counts == 0] > 0)):
            raise DAGANError(f"party {self.name!r}: refused label mix {list(label_probs)}: it "
                             f"must weigh only the {len(counts)} label classes this party holds "
                             f"(counts {counts.tolist()})")
        return probs / probs.sum()

    def _row_weights(self, blocks: np.ndarray, cats: np.ndarray) -> np.ndarray:
        att = self.config.attention
        w = np.ones(len(blocks))
        if att.local_attention and not att.class_alpha:  # class_alpha: the draw is the weight
            on_label = blocks == self.layout.label_block
            w[on_label] = np.exp(att.local_eta * self.class_gap[cats[on_label]])
            w = w / w.mean()
            c = att.local_weight_clip
            w = np.clip(w, 1 / c, c)
        return w.astype(np.float32)

    # ---- message handling -----------------------------------------------------------------
    def handle(self, message: object) -> object:
        """Answer one coordinator message."""
        if isinstance(message, m.ConditionRequest):
            return self._draw(message.n, message.label_probs)
        if isinstance(message, m.CriticStep):
            return self._critic_step(message.fake_rows)
        if isinstance(message, m.GeneratorStep):
            return self._generator_feedback(message.fake_rows)
        if isinstance(message, m.FitProbe):
            return self._fit_probe(message.max_rows)
        if isinstance(message, m.FitFakes):
            return self._fit_report(message.fake_rows)
        raise TypeError(f"party {self.name!r} cannot handle {type(message).__name__}")

    def _draw(self, n: int, label_probs: tuple[float, ...] = ()) -> m.Conditions:
        if self.dp is not None:  # uniform rows without replacement: what the accountant assumes
            blocks, cats, rows = self.dp.draw(n, self.rng)
        else:
            probs = self._asked_mix(label_probs) if label_probs else self.label_probs()
            blocks, cats, rows = self.sampler.draw(n, self.rng, probs)
        self._pending = (blocks, cats, rows)
        return m.Conditions(blocks, cats, self._codes[rows])

    def _conditions(self, blocks, cats, codes) -> torch.Tensor:
        """The condition part of the critic input (plus the party-code one-hot if pooled)."""
        cond = cond_vectors(self.layout, blocks, cats)
        if self._code_in_critic:
            onehot = np.zeros((len(codes), self.n_codes), dtype=np.float32)
            onehot[np.arange(len(codes)), codes] = 1.0
            cond = np.concatenate([cond, onehot], axis=1)
        return torch.as_tensor(cond, device=self.device)

    def _critic_input(self, x: torch.Tensor, blocks, cats, codes) -> torch.Tensor:
        return torch.cat([x, self._conditions(blocks, cats, codes)], dim=1)

    def critic_step_inputs(self, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Critic inputs (rows + conditions) of the pending real rows and of ``fake``."""
        blocks, cats, rows = self._pending
        cond = self._conditions(blocks, cats, self._codes[rows])
        return (torch.cat([self._rows[rows], cond], dim=1),
                torch.cat([fake.to(self.device), cond], dim=1))

    def feedback_conditions(self) -> tuple[torch.Tensor, np.ndarray]:
        """Condition part of the critic input for the pending draw, and the per-row weights."""
        blocks, cats, rows = self._pending
        cond = self._conditions(blocks, cats, self._codes[rows])
        return cond, self._row_weights(blocks, cats)

    def _critic_step(self, fake: torch.Tensor) -> m.CriticReport:
        real_in, fake_in = self.critic_step_inputs(fake)
        self.critic.train()
        if self.dp is not None:
            return m.CriticReport(*self.dp.step(self.critic, self.optimizer, real_in, fake_in,
                                                self.torch_gen))
        s_real, s_fake, penalties = critic_terms(self.critic, real_in, fake_in, self.torch_gen,
                                                 self.member)
        gp = penalties.mean()
        w_dist = s_real.mean() - s_fake.mean()
        loss = -w_dist + self.config.train.gp_lambda * gp
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.guide_step()
        return m.CriticReport(loss.item(), w_dist.item(), gp.item())

    def guide_step(self) -> None:
        """One update of the class guide on the pending draw's real rows (if there is one)."""
        if self.guide is not None:
            self.guide.train_step(self._rows[self._pending[2]])

    def guided(self, grad: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """``grad`` plus the class guide's gradient on ``fake`` for the pending draw."""
        if self.guide is None:
            return grad
        blocks, cats, _ = self._pending
        return grad + self.guide.gradient(fake.detach().to(self.device), blocks, cats)

    def _generator_feedback(self, fake: torch.Tensor) -> m.GeneratorFeedback:
        blocks, cats, rows = self._pending
        fake = fake.detach().to(self.device).requires_grad_(True)
        self.critic.train()
        scores = self.critic(self._critic_input(fake, blocks, cats, self._codes[rows]),
                             self.torch_gen, self.member)
        (grad,) = torch.autograd.grad(-scores.sum(), fake)
        return m.GeneratorFeedback(self.guided(grad, fake), self._row_weights(blocks, cats),
                                   -scores.detach().mean().item())

    def _fit_probe(self, max_rows: int) -> m.Conditions:
        if self.dp is not None:  # under DP no held-out or training row is read outside DP-SGD
            self._probe = None
            empty = np.zeros(0, dtype=np.int64)
            return m.Conditions(empty, empty, self._codes[:0])
        if self._hold_rows is not None:
            rows, codes = self._hold_rows, self._hold_codes
        else:
            pick = self.rng.choice(len(self._rows), size=min(max_rows, len(self._rows)),
                                   replace=False)
            rows, codes = self._rows[pick].cpu().numpy(), self._codes[pick]
        b = self.layout.cond_blocks[self.layout.label_block]
        labels = b.categories(rows)
        take = []
        for k in np.unique(labels):
            idx = np.flatnonzero(labels == k)
            n_k = max(self.pac, (min(len(idx), max_rows) // self.pac) * self.pac)
            take.append(self.rng.choice(idx, size=n_k, replace=len(idx) < n_k))
        take = np.concatenate(take)
        blocks = np.full(len(take), self.layout.label_block)
        self._probe = (torch.as_tensor(rows[take], device=self.device), labels[take])
        self._probe_codes = codes[take]
        return m.Conditions(blocks, labels[take], codes[take])

    def _fit_report(self, fake: torch.Tensor) -> m.FitReport:
        if self._probe is None:  # probe skipped under DP: neutral gap, attention left as is
            nan = float("nan")
            return m.FitReport(0.0, (nan,) * len(self.class_gap), 0, nan, nan)
        real, labels = self._probe
        blocks = np.full(len(labels), self.layout.label_block)
        self.critic.eval()
        with torch.no_grad():
            s_real = self.critic(self._critic_input(real, blocks, labels, self._probe_codes),
                                 self.torch_gen, self.member).cpu().numpy()
            s_fake = self.critic(self._critic_input(fake.to(self.device), blocks, labels,
                                                    self._probe_codes),
                                 self.torch_gen, self.member).cpu().numpy()
        pack_labels = labels[:: self.pac]
        gaps = np.full(len(self.class_gap), np.nan)
        for k in np.unique(pack_labels):
            sel = pack_labels == k
            gaps[k] = float(np.clip(2 * (rank_auc(s_real[sel], s_fake[sel]) - 0.5), 0, 1))
        gap = float(np.clip(2 * (rank_auc(s_real, s_fake) - 0.5), 0, 1))
        mom = self.config.attention.gap_momentum
        held = ~np.isnan(gaps)
        self.class_gap[held] = mom * self.class_gap[held] + (1 - mom) * gaps[held]
        n_hold = 0 if self._hold_rows is None else len(self._hold_rows)
        real_rows, fake_rows = real.cpu().numpy(), fake.detach().cpu().numpy()
        marginal = marginal_gap(self.layout, real_rows, fake_rows)
        return m.FitReport(gap, tuple(float(g) for g in gaps), n_hold, marginal,
                           heldout_f1(self.layout, real_rows, self._released(fake_rows, labels)))

    def _released(self, fake: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """The fakes whose label came out as asked (a release regenerates the others)."""
        b = self.layout.cond_blocks[self.layout.label_block]
        return fake[b.categories(fake) == labels]

    def dp_epsilon(self) -> tuple[float, float] | None:
        """(epsilon spent so far, its delta) under DP; None when DP is off."""
        return None if self.dp is None else (self.dp.epsilon(), self.dp.delta)

    # ---- state (kept by the party; never sent to the coordinator) ---------------------------
    def state_dict(self) -> dict[str, Any]:
        """Critic, optimizer, attention and RNG state (no rows)."""
        return {
            "critic": self.critic.member_state(self.member),
            "optimizer": member_optimizer_state(self.optimizer, self.critic, self.member),
            "class_gap": self.class_gap.tolist(),
            "rng": self.rng.bit_generator.state,
            "torch_gen": self.torch_gen.get_state(),
            **({} if self.dp is None else {"dp": self.dp.state_dict()}),
            **({} if self.guide is None else {"guide": self.guide.state_dict()}),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved."""
        self.critic.load_member_state(self.member, state["critic"])
        load_member_optimizer_state(self.optimizer, self.critic, self.member, state["optimizer"])
        self.class_gap = np.asarray(state["class_gap"], dtype=float)
        self.rng.bit_generator.state = state["rng"]
        self.torch_gen.set_state(state["torch_gen"].cpu())
        if self.guide is not None and "guide" in state:
            self.guide.load_state_dict(state["guide"])
        if self.dp is not None:
            if "dp" not in state:
                raise DAGANError(f"party {self.name!r}: the training state to resume was saved "
                                 "without differential privacy; its epsilon is unknown")
            self.dp.load_state_dict(state["dp"])


def critic_optimizer(critic: Critic, config: SynthesizerConfig) -> torch.optim.Adam:
    """Adam of a critic (or of a bank of critics) with the configured rate and decay."""
    return torch.optim.Adam(critic.parameters(), lr=config.train.critic_lr, betas=(0.5, 0.9),
                            weight_decay=config.train.weight_decay, fused=True)
