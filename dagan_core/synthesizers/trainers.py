"""Training back-ends behind the strategies.

- :class:`FederatedTrainer` (dagan, mdgan, swift, centralized): one coordinator-owned generator,
  one critic per party, gradient casting.
- :class:`LocalTrainer` (local, fedsyn): one full GAN per party, trained where the party is;
  fedsyn averages the generators and critics FedAvg-style after every round.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from dagan_core.config import SynthesizerConfig
from dagan_core.data.layout import ColumnLayout
from dagan_core.federation.colocated import ColocatedCritics
from dagan_core.federation.coordinator import Coordinator, PartyInfo
from dagan_core.federation.party import Party, pack_size
from dagan_core.federation.transport import InProcessTransport
from dagan_core.strategies import get_strategy

POOLED = "__pooled__"


class FederatedTrainer:
    """Parties + transport + coordinator (see module docstring)."""

    def __init__(self, encoded: dict[str, np.ndarray], layout: ColumnLayout,
                 config: SynthesizerConfig, seeds: np.random.SeedSequence,
                 device: torch.device, *, codes: dict[str, int] | None = None,
                 pac: int | None = None):
        """Hand each party its encoded rows and start the coordinator.

        Args:
            codes: party code of each party (defaults to their order).
            pac: force one pack size on every party (used when critics are averaged).
        """
        names = list(encoded)
        codes = codes or {p: i for i, p in enumerate(names)}
        n_codes = max(codes.values()) + 1
        child = seeds.spawn(len(names) + 2)
        strategy = get_strategy(config.strategy)
        if strategy.pooled:
            rows = np.concatenate([encoded[p] for p in names])
            pooled_codes = np.concatenate([np.full(len(encoded[p]), codes[p]) for p in names])
            self.parties = {POOLED: Party(POOLED, rows, layout, config, party_codes=pooled_codes,
                                          n_codes=n_codes, seed=_int(child[0]), device=device,
                                          pac=pac, code_in_critic=True)}
        else:
            self.parties = {
                p: Party(p, encoded[p], layout, config,
                         party_codes=np.full(len(encoded[p]), codes[p]), n_codes=n_codes,
                         seed=_int(child[i]), device=device, pac=pac)
                for i, p in enumerate(names)
            }
        self.transport = InProcessTransport(self.parties)
        self.colocated = []
        if _batched(config, device) and strategy.colocates_critics:
            self.colocated = _colocate(list(self.parties.values()), config, child[-2], device)
            for group in self.colocated:
                self.transport.colocate(group)
        infos = [PartyInfo(p, party.n_rows, party.pac,
                           tuple(int(c) for c in party.sampler.label_counts))
                 for p, party in self.parties.items()]
        self.coordinator = Coordinator(
            layout, infos, self.transport, config, n_codes=n_codes, seed=_int(child[-1]),
            device=device, participation=strategy.participation,
        )

    def run_epoch(self, steps: int) -> dict[str, Any]:
        """One epoch of ``steps`` generator steps."""
        return self.coordinator.run_epoch(steps)

    def attention(self) -> tuple[dict[str, float], dict[str, list[float] | None]]:
        """Current alpha per party and pi per party (for logging)."""
        alpha = dict(zip(self.parties, map(float, self.coordinator.alpha)))
        pi = {p: (None if (x := party.label_probs()) is None else x.tolist())
              for p, party in self.parties.items()}
        return alpha, self.coordinator.asked_mixes() or pi

    def generators(self) -> list[torch.nn.Module]:
        """The generator(s), one per party code."""
        return [self.coordinator.released]

    def dp_epsilon(self) -> dict[str, tuple[float, float]] | None:
        """Party -> (epsilon spent, delta) of its DP critic; None when DP is off."""
        spent = {p: party.dp_epsilon() for p, party in self.parties.items()}
        return None if any(v is None for v in spent.values()) else spent

    def weight_noise_epsilon(self) -> float | None:
        """Epsilon per round of noise on shared weights; None (no weights are shared)."""
        return None

    def state_dict(self) -> dict[str, Any]:
        """Coordinator state and each party's own state."""
        return {"coordinator": self.coordinator.state_dict(),
                "parties": {p: party.state_dict() for p, party in self.parties.items()},
                "colocated": [group.state_dict() for group in self.colocated]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.coordinator.load_state_dict(state["coordinator"])
        for p, party in self.parties.items():
            party.load_state_dict(state["parties"][p])
        for group, saved in zip(self.colocated, state.get("colocated", [])):
            group.load_state_dict(saved)


def make_trainer(encoded: dict[str, np.ndarray], layout: ColumnLayout,
                 config: SynthesizerConfig, seeds: np.random.SeedSequence,
                 device: torch.device) -> FederatedTrainer | LocalTrainer:
    """The trainer of the config's strategy: a GAN per party, or party critics."""
    strategy = get_strategy(config.strategy)
    if strategy.gan_per_party:
        return LocalTrainer(encoded, layout, config, seeds, device,
                            average=strategy.averages_weights)
    return FederatedTrainer(encoded, layout, config, seeds, device)


def _batched(config: SynthesizerConfig, device: torch.device) -> bool:
    """Whether co-located critics run as a bank (never under DP: its steps are per party)."""
    mode = config.train.batched_critics
    if config.privacy.enabled:
        return False
    return mode == "on" or (mode == "auto" and device.type == "cuda")


def _colocate(parties: list[Party], config: SynthesizerConfig, seed: np.random.SeedSequence,
              device: torch.device) -> list[ColocatedCritics]:
    """One bank per set of >= 2 parties whose critics have the same pack size and width."""
    sets: dict[tuple[int, int], list[Party]] = {}
    for party in parties:
        sets.setdefault((party.critic.input_dim, party.critic.pac), []).append(party)
    members = [ps for ps in sets.values() if len(ps) > 1]
    seeds = seed.spawn(len(members))
    return [ColocatedCritics(ps, config, seed=_int(s), device=device)
            for ps, s in zip(members, seeds)]


def _int(seq: np.random.SeedSequence) -> int:
    return int(seq.generate_state(1, dtype=np.uint32)[0])


class LocalTrainer:
    """One GAN per party; with ``average=True`` FedSyn's FedAvg of generators and critics."""

    def __init__(self, encoded: dict[str, np.ndarray], layout: ColumnLayout,
                 config: SynthesizerConfig, seeds: np.random.SeedSequence,
                 device: torch.device, *, average: bool):
        """Build one single-party trainer per party."""
        self.names = list(encoded)
        self.config = config
        self.average = average
        codes = {p: i for i, p in enumerate(self.names)}
        pac = min(pack_size(config, len(x)) for x in encoded.values()) if average else None
        child = seeds.spawn(len(self.names) + 1)
        self.locals = {
            p: FederatedTrainer({p: encoded[p]}, layout, config, child[i], device,
                                codes=codes, pac=pac)
            for i, p in enumerate(self.names)
        }
        self.sizes = np.array([len(encoded[p]) for p in self.names], dtype=float)
        self.noise_rng = np.random.default_rng(child[-1])
        self.epsilon_per_round = 0.0
        self._global: list[dict[str, torch.Tensor] | None] = [None, None]
        if average:
            self._fedavg(first=True)

    def _trainers(self):
        return [self.locals[p] for p in self.names]

    def _fedavg(self, first: bool = False) -> None:
        """FedAvg of generator and critic weights, weighted by n_p.

        Without noise: global = sum_p w_p * theta_p. With ``fedsyn_noise_scale`` b > 0, each
        party's update from the last global weights is clipped to [-clip, clip] per coordinate
        and Laplace(b) noise is added to the average, so one party changes each coordinate by at
        most 2 * clip * w_p: epsilon per round = 2 * clip * max_p(w_p) * n_coordinates / b.
        """
        w = self.sizes / self.sizes.sum()
        fed = self.config.federation
        getters = (lambda t: t.coordinator.generator,
                   lambda t: next(iter(t.parties.values())).critic)
        n_coords = 0
        for g_i, get in enumerate(getters):
            modules = [get(t) for t in self._trainers()]
            states = [mod.state_dict() for mod in modules]
            if first:  # every party starts from the same weights
                avg = {k: v.clone() for k, v in states[0].items()}
            else:
                avg, counted = self._average(states, self._global[g_i], w)
                n_coords += counted
            self._global[g_i] = {k: v.clone() for k, v in avg.items()}
            for mod in modules:
                mod.load_state_dict(avg)
        if fed.fedsyn_noise_scale > 0 and not first:
            self.epsilon_per_round = 2 * fed.fedsyn_clip * float(w.max()) * n_coords / (
                fed.fedsyn_noise_scale)

    def _average(self, states: list[dict[str, torch.Tensor]], prev: dict[str, torch.Tensor],
                 w: np.ndarray) -> tuple[dict[str, torch.Tensor], int]:
        """The weighted average of the parties' updates from ``prev`` (clipped and noised with
        ``fedsyn_noise_scale`` > 0), and the number of noised coordinates."""
        fed = self.config.federation
        noised = fed.fedsyn_noise_scale > 0
        avg, n_coords = {}, 0
        for key, ref in states[0].items():
            if not torch.is_floating_point(ref):
                avg[key] = ref
                continue
            deltas = [st[key] - prev[key] for st in states]
            if noised:
                deltas = [d.clamp(-fed.fedsyn_clip, fed.fedsyn_clip) for d in deltas]
                n_coords += ref.numel()
            total = prev[key] + sum(float(wi) * d for wi, d in zip(w, deltas))
            if noised:
                noise = self.noise_rng.laplace(0, fed.fedsyn_noise_scale, ref.shape)
                total = total + torch.as_tensor(noise, dtype=ref.dtype, device=ref.device)
            avg[key] = total
        return avg, n_coords

    def run_epoch(self, steps: int) -> dict[str, Any]:
        """Each party trains on its own rows; fedsyn averages after each round."""
        rounds = self.config.federation.fedsyn_rounds_per_epoch if self.average else 1
        batch = self.config.train.batch_size
        per_party = {p: max(1, int(n) // batch) for p, n in zip(self.names, self.sizes)}
        results: list[dict[str, Any]] = []
        for r in range(rounds):
            for p in self.names:
                share = per_party[p] // rounds + (1 if r < per_party[p] % rounds else 0)
                if share:
                    results.append(self.locals[p].run_epoch(share))
            if self.average:
                self._fedavg()
        merged: dict[str, Any] = {
            "seconds": sum(x["seconds"] for x in results),
            "generator_loss": float(np.mean([x["generator_loss"] for x in results])),
            "cond_loss": float(np.mean([x["cond_loss"] for x in results])),
            "critic": {}, "fit": {"gap": {}, "class_gap": {}, "marginal_gap": {},
                                 "heldout_f1": {}},
        }
        for x in results:
            merged["critic"].update(x["critic"])
            merged["fit"]["gap"].update(x["fit"]["gap"])
            merged["fit"]["class_gap"].update(x["fit"]["class_gap"])
            merged["fit"]["marginal_gap"].update(x["fit"]["marginal_gap"])
            merged["fit"]["heldout_f1"].update(x["fit"].get("heldout_f1", {}))
        # a local GAN's generator and critic both live at the party: nothing crosses a boundary
        # but FedSyn's weight exchange (each party uploads and downloads G and C every round)
        merged["bytes"] = 0
        if self.average:
            first = self._trainers()[0]
            n_values = sum(p.numel() for p in first.coordinator.generator.parameters()) + sum(
                p.numel() for p in next(iter(first.parties.values())).critic.parameters())
            merged["bytes"] = int(2 * len(self.names) * rounds * n_values * 4)
        return merged

    def attention(self) -> tuple[dict[str, float], dict[str, list[float] | None]]:
        """Uniform (no attention in these baselines)."""
        return {p: 1.0 / len(self.names) for p in self.names}, {p: None for p in self.names}

    def dp_epsilon(self) -> dict[str, tuple[float, float]] | None:
        """Party -> (epsilon spent, delta) of its DP critic; None when DP is off."""
        spent: dict[str, tuple[float, float]] = {}
        for t in self._trainers():
            eps = t.dp_epsilon()
            if eps is None:
                return None
            spent.update(eps)
        return spent

    def weight_noise_epsilon(self) -> float | None:
        """FedSyn's epsilon per FedAvg round of its Laplace weight noise; None without noise."""
        if not self.average or self.config.federation.fedsyn_noise_scale <= 0:
            return None
        return self.epsilon_per_round

    def generators(self) -> list[torch.nn.Module]:
        """One generator per party code (all equal after FedAvg)."""
        if self.average:
            return [self.locals[self.names[0]].coordinator.released]
        return [self.locals[p].coordinator.released for p in self.names]

    def state_dict(self) -> dict[str, Any]:
        """Every local trainer's state and the noise RNG."""
        return {"locals": {p: t.state_dict() for p, t in self.locals.items()},
                "noise_rng": self.noise_rng.bit_generator.state,
                "global": self._global}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        for p, t in self.locals.items():
            t.load_state_dict(state["locals"][p])
        self.noise_rng.bit_generator.state = state["noise_rng"]
        self._global = state["global"]
