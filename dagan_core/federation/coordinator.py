"""The coordinator: owns the generator, never a row.

It talks to parties only through a transport, by name. Each step it asks every participating
party for conditions, generates all parties' fake rows in one generator pass, casts them to the
parties, and back-propagates the returned per-row gradients (weighted in
:mod:`dagan_core.federation.weighting`) together with the conditional loss.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from dagan_core.config import SynthesizerConfig
from dagan_core.data.layout import ColumnLayout
from dagan_core.data.sampler import cond_vectors
from dagan_core.errors import DAGANError
from dagan_core.federation import messages as m
from dagan_core.federation.transport import InProcessTransport
from dagan_core.federation.weighting import (
    class_cell_weights,
    global_attention,
    party_batch_sizes,
    row_weights,
)
from dagan_core.nn.generator import Generator, conditional_loss
from dagan_core.nn.layers import build


@dataclass(frozen=True)
class PartyInfo:
    """What the coordinator knows of a party: its name, row count and pack size, and the row
    count of each label class it trains on (from its summary; needed by ``class_alpha``)."""

    name: str
    n_rows: int
    pac: int
    label_counts: tuple[int, ...] = ()


def make_generator(layout: ColumnLayout, n_codes: int, config: SynthesizerConfig,
                   device: torch.device, gen: torch.Generator) -> Generator:
    """Build and seed-initialise a generator."""
    mc = config.model
    return build(lambda: Generator(layout, n_codes, mc.embedding_dim, mc.party_embedding_dim,
                                   mc.generator_dims), device, gen)


class Coordinator:
    """Trains the generator against the parties' critics (see module docstring)."""

    def __init__(
        self, layout: ColumnLayout, parties: list[PartyInfo], transport: InProcessTransport,
        config: SynthesizerConfig, *, n_codes: int, seed: int, device: torch.device,
        participation: str = "all",
    ):
        """Create the generator and its optimizer.

        Args:
            participation: "all" (every party every step) or "one" (one party drawn uniformly
                per step, as in the swift baseline).
        """
        self.layout = layout
        self.parties = parties
        self.transport = transport
        self.config = config
        self.device = device
        self.participation = participation
        self.rng = np.random.default_rng(seed)
        self.torch_gen = torch.Generator(device=device)
        self.torch_gen.manual_seed(seed)
        self.generator = make_generator(layout, n_codes, config, device, self.torch_gen)
        self.optimizer = torch.optim.Adam(
            self.generator.parameters(), lr=config.train.generator_lr, betas=(0.5, 0.9), fused=True,
            weight_decay=config.train.weight_decay,
        )
        #: the moving average of the generator's weights (TrainConfig.generator_ema), or None
        self.averaged = self._new_average() if config.train.generator_ema > 0 else None
        self.averaged_steps = 0
        self.sizes = np.array([p.n_rows for p in parties], dtype=float)
        self.packs = np.array([p.pac for p in parties])
        self.gaps = np.zeros(len(parties))
        self.class_counts = self.class_gaps = self.label_mix = None
        if config.attention.class_alpha:
            if any(not p.label_counts for p in parties):
                raise DAGANError("per-class cross-party weights (class_alpha) need every "
                                 "party's label counts; parties without them: "
                                 f"{[p.name for p in parties if not p.label_counts]}")
            self.class_counts = np.array([p.label_counts for p in parties], dtype=float)
            self.class_gaps = np.zeros_like(self.class_counts)
        self._update_alpha()
        #: called with an exception raised by a step or the fit measure; returns True when it
        #: dropped a party (:meth:`drop_party`), and the step is then run again without it
        self.on_lost: Callable[[Exception], bool] | None = None

    def drop_party(self, name: str) -> None:
        """Train on without ``name`` from the next step: the attention renormalises over the
        remaining parties (its generator code stays in the generator, unused)."""
        i = [p.name for p in self.parties].index(name)
        self.parties = self.parties[:i] + self.parties[i + 1:]
        self.sizes, self.packs = np.delete(self.sizes, i), np.delete(self.packs, i)
        self.gaps = np.delete(self.gaps, i)
        if self.class_counts is not None:
            self.class_counts = np.delete(self.class_counts, i, axis=0)
            self.class_gaps = np.delete(self.class_gaps, i, axis=0)
        self._update_alpha()

    def asked_mixes(self) -> dict[str, list[float]] | None:
        """Party -> the class mix it is asked to draw (per-class weights on), else None."""
        if self.label_mix is None:
            return None
        return {p.name: list(mix) for p, mix in zip(self.parties, self.label_mix)}

    def _update_alpha(self) -> None:
        """alpha over parties, and with class_alpha the class mix each party is asked to draw."""
        if self.class_counts is None:
            self.alpha = global_attention(self.sizes, self.gaps, self.config.attention)
            return
        q = class_cell_weights(self.class_counts, self.class_gaps, self.config.attention)
        self.alpha = q.sum(axis=1)
        self.label_mix = [tuple(float(v) for v in row / row.sum()) for row in q]

    def _guarded(self, call: Callable[[], Any]) -> Any:
        while True:
            try:
                return call()
            except Exception as exc:
                if self.on_lost is None or not self.on_lost(exc):
                    raise

    # ---- the released generator -----------------------------------------------------------
    def _new_average(self) -> Generator:
        """A copy of the live generator that the optimizer never touches."""
        averaged = copy.deepcopy(self.generator)
        averaged.requires_grad_(False)
        return averaged.eval()

    @property
    def released(self) -> Generator:
        """The generator that is measured, kept and released: the moving average when
        ``generator_ema`` > 0, else the live one."""
        return self.generator if self.averaged is None else self.averaged

    @torch.no_grad()
    def _update_average(self) -> None:
        """One step of the moving average (warm-up: decay (1 + t) / (10 + t) while smaller);
        the batch-norm statistics are the live generator's."""
        if self.averaged is None:
            return
        t = self.averaged_steps
        decay = min(self.config.train.generator_ema, (1 + t) / (10 + t))
        for avg, live in zip(self.averaged.parameters(), self.generator.parameters()):
            avg.lerp_(live, 1 - decay)
        for avg, live in zip(self.averaged.buffers(), self.generator.buffers()):
            avg.copy_(live)
        self.averaged_steps += 1

    # ---- generation -------------------------------------------------------------------------
    def generate(self, conds: list[m.Conditions], *, grad: bool,
                 net: Generator | None = None) -> tuple[torch.Tensor, ...]:
        """One generator pass (of ``net``, default the live generator) for the concatenated
        conditions of several parties."""
        blocks = np.concatenate([c.blocks for c in conds])
        cats = np.concatenate([c.categories for c in conds])
        codes = np.concatenate([c.party_codes for c in conds])
        cond = torch.as_tensor(cond_vectors(self.layout, blocks, cats), device=self.device)
        z = torch.randn(len(blocks), self.config.model.embedding_dim, device=self.device,
                        generator=self.torch_gen)
        party = torch.as_tensor(codes, device=self.device)
        net = self.generator if net is None else net
        with torch.set_grad_enabled(grad):
            raw = net(z, party, cond)
            fake = net.activate(raw, self.config.model.gumbel_tau, self.torch_gen)
        return raw, fake, torch.as_tensor(blocks, device=self.device), torch.as_tensor(
            cats, device=self.device)

    def _participants(self) -> tuple[list[int], np.ndarray]:
        if self.participation == "one":
            i = int(self.rng.integers(len(self.parties)))
            n = max(1, round(self.config.train.batch_size / self.packs[i])) * self.packs[i]
            return [i], np.array([n])
        sizes = party_batch_sizes(self.alpha, self.config.train.batch_size, self.packs)
        return list(range(len(self.parties))), sizes

    def _split(self, x: torch.Tensor, sizes: np.ndarray) -> list[torch.Tensor]:
        return list(torch.split(x, [int(s) for s in sizes]))

    def _conditions(self, names: list[str], sizes: np.ndarray) -> list[m.Conditions]:
        # one round: remote parties draw their conditions at once (each from its own RNG)
        if self.label_mix is None:
            return self.transport.send_round(names, [m.ConditionRequest(int(n)) for n in sizes])
        index = {p.name: i for i, p in enumerate(self.parties)}
        return self.transport.send_round(names, [
            m.ConditionRequest(int(n), self.label_mix[index[p]]) for p, n in zip(names, sizes)])

    # ---- training ---------------------------------------------------------------------------
    def step(self, stats: dict[str, Any]) -> None:
        """One generator update preceded by ``critic_steps`` critic updates. A step that fails
        (a party's reply refused, a party gone) leaves the generator as it was: its weights are
        only updated at the end, and its running statistics are put back."""
        buffers = [b.clone() for b in self.generator.buffers()]
        try:
            self._step(stats)
        except Exception:
            with torch.no_grad():
                for live, saved in zip(self.generator.buffers(), buffers):
                    live.copy_(saved)
            raise

    def _step(self, stats: dict[str, Any]) -> None:
        idx, sizes = self._participants()
        names = [self.parties[i].name for i in idx]
        self.generator.train()
        for _ in range(self.config.train.critic_steps):
            conds = self._conditions(names, sizes)
            _, fake, _, _ = self.generate(conds, grad=False)
            steps = [m.CriticStep(x) for x in self._split(fake, sizes)]
            for p, r in zip(names, self.transport.send_round(names, steps)):
                acc = stats.setdefault(p, [0.0, 0.0, 0.0, 0])
                acc[0] += r.loss
                acc[1] += r.wasserstein
                acc[2] += r.gradient_penalty
                acc[3] += 1
        conds = self._conditions(names, sizes)
        raw, fake, blocks, cats = self.generate(conds, grad=True)
        grads, weights, g_loss = [], [], 0.0
        feedback = self.transport.send_round(
            names, [m.GeneratorStep(x.detach()) for x in self._split(fake, sizes)])
        for j, fb in enumerate(feedback):
            w = row_weights(self.alpha[idx[j]], fb.row_weights, int(sizes[j] // self.packs[idx[j]]))
            grads.append(fb.row_gradients.to(self.device))
            weights.append(torch.as_tensor(w, device=self.device, dtype=fake.dtype))
            g_loss += self.alpha[idx[j]] * fb.loss
        weighted = torch.cat(grads) * torch.cat(weights)[:, None]
        cond_loss = conditional_loss(raw, self.layout, blocks, cats)
        loss = (fake * weighted).sum() + self.config.train.cond_loss_weight * cond_loss
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self._update_average()
        stats.setdefault("_g", [0.0, 0.0, 0])
        stats["_g"][0] += g_loss / sum(self.alpha[i] for i in idx)
        stats["_g"][1] += cond_loss.item()
        stats["_g"][2] += 1

    def measure_fit(self, max_rows: int = 1000) -> dict[str, Any]:
        """Ask every party how well the released generator's fakes match its held-out rows;
        update global attention."""
        net = self.released
        net.eval()
        names = [p.name for p in self.parties]
        conds = self.transport.send_round(names, [m.FitProbe(max_rows)] * len(names))
        fakes = [m.FitFakes(self.generate([c], grad=False, net=net)[1]) for c in conds]
        reports = self.transport.send_round(names, fakes)
        gaps = [rep.gap for rep in reports]
        class_gaps = {name: rep.class_gaps for name, rep in zip(names, reports)}
        marginal = {name: rep.marginal_gap for name, rep in zip(names, reports)}
        heldout = {name: rep.heldout_f1 for name, rep in zip(names, reports)}
        mom = self.config.attention.gap_momentum
        self.gaps = mom * self.gaps + (1 - mom) * np.asarray(gaps)
        if self.class_gaps is not None:  # NaN (class not in the probe): keep the last estimate
            new = np.array([rep.class_gaps for rep in reports], dtype=float)
            seen = ~np.isnan(new)
            self.class_gaps[seen] = mom * self.class_gaps[seen] + (1 - mom) * new[seen]
        self._update_alpha()
        self.generator.train()  # the average stays in eval mode
        return {"gap": dict(zip([p.name for p in self.parties], gaps)), "class_gap": class_gaps,
                "marginal_gap": marginal, "heldout_f1": heldout}

    def run_epoch(self, steps: int) -> dict[str, Any]:
        """Train ``steps`` steps, then measure fit; return raw per-epoch statistics."""
        start = time.perf_counter()
        stats: dict[str, Any] = {}
        for _ in range(steps):
            self._guarded(lambda: self.step(stats))
        fit = self._guarded(self.measure_fit)
        g = stats.pop("_g")
        return {
            "seconds": time.perf_counter() - start,
            "generator_loss": g[0] / g[2],
            "cond_loss": g[1] / g[2],
            "critic": {p: {"loss": a[0] / a[3], "wasserstein": a[1] / a[3],
                           "gradient_penalty": a[2] / a[3]} for p, a in stats.items()},
            "fit": fit,
            "bytes": self.transport.reset_counters(),
        }

    # ---- state ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Generator, optimizer, attention and RNG state."""
        return {
            "generator": self.generator.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "gaps": self.gaps.tolist(),
            **({} if self.class_gaps is None else {"class_gaps": self.class_gaps.tolist()}),
            "rng": self.rng.bit_generator.state,
            "torch_gen": self.torch_gen.get_state(),
            **({} if self.averaged is None else {"generator_average": self.averaged.state_dict(),
                                                 "averaged_steps": self.averaged_steps}),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved."""
        self.generator.load_state_dict(state["generator"])
        if self.averaged is not None:  # a state saved without the average starts it afresh
            self.averaged.load_state_dict(state.get("generator_average",
                                                    self.generator.state_dict()))
            self.averaged_steps = int(state.get("averaged_steps", 0))
        self.optimizer.load_state_dict(state["optimizer"])
        self.gaps = np.asarray(state["gaps"], dtype=float)
        if self.class_gaps is not None and "class_gaps" in state:
            self.class_gaps = np.asarray(state["class_gaps"], dtype=float)
        self._update_alpha()
        self.rng.bit_generator.state = state["rng"]
        self.torch_gen.set_state(state["torch_gen"].cpu())
