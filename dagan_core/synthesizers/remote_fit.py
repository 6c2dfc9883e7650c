"""Fitting with parties on other hosts: the coordinator's side of the set-up, then training.

The coordinator never holds a row. It greets every party (``Hello``), agrees the schema from
their declarations and builds the encoder from their summaries exactly as an in-process fit
does, sends each party the encoder, the config and its seed (``Setup``), and then runs the same
:class:`~dagan_core.federation.coordinator.Coordinator` over a
:class:`~dagan_core.federation.remote.client.RemoteTransport`. Same seeds, same data: the
same model as in process.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from dagan_core.config import SynthesizerConfig
from dagan_core.data.summary import PartySummary
from dagan_core.errors import ConfigError, SchemaMismatchError
from dagan_core.federation.coordinator import Coordinator, PartyInfo
from dagan_core.federation.remote import handshake as h
from dagan_core.federation.remote.errors import PartyRefusedError
from dagan_core.federation.remote.party_host import discrete_list
from dagan_core.prepare import agree_schema, build_encoder
from dagan_core.strategies import get_strategy


@dataclass(frozen=True)
class RemoteParties:
    """Parties reached over the network, for ``Synthesizer.fit``.

    Attributes:
        endpoints: party name -> ``host:port`` where its ``dagan party serve`` answers.
        tls: the coordinator's TLS files (``remote.tls.TLSFiles``).
        contract: fingerprint of the contract every party must have validated against
            (``handshake.contract_fingerprint``).
        timeout: deadline of each call, seconds.
        retry_for: how long an unreachable party is retried before the fit fails, seconds.
    """

    endpoints: Mapping[str, str]
    tls: Any
    contract: str
    timeout: float = 30.0
    retry_for: float = 60.0


class RemoteTrainer:
    """The coordinator's half of a gradient-casting trainer; the critics live at the parties."""

    def __init__(self, transport: Any, infos: list[PartyInfo], layout: Any,
                 config: SynthesizerConfig, coordinator_seed: int, device: torch.device):
        self.transport = transport
        self.names = [i.name for i in infos]
        self.coordinator = Coordinator(
            layout, infos, transport, config, n_codes=len(infos), seed=coordinator_seed,
            device=device, participation=get_strategy(config.strategy).participation)

    def close(self) -> None:
        """Close the connections to the parties (the fit is finished)."""
        self.transport.close()

    def run_epoch(self, steps: int) -> dict[str, Any]:
        """One epoch of ``steps`` generator steps over the network."""
        return self.coordinator.run_epoch(steps)

    def attention(self) -> tuple[dict[str, float], dict[str, Any]]:
        """Alpha per party; the parties' class weights stay at the parties."""
        return dict(zip(self.names, map(float, self.coordinator.alpha))), {}

    def generators(self) -> list[torch.nn.Module]:
        """The generator."""
        return [self.coordinator.generator]

    def dp_epsilon(self) -> None:
        """DP critics are not offered for remote parties."""
        return None

    def weight_noise_epsilon(self) -> None:
        """No weights are shared."""
        return None

    def state_dict(self) -> dict[str, Any]:
        """The coordinator's state (each party keeps its own)."""
        return {"coordinator": self.coordinator.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.coordinator.load_state_dict(state["coordinator"])


def _check_strategy(config: SynthesizerConfig) -> None:
    strategy = get_strategy(config.strategy)
    if strategy.pooled or strategy.gan_per_party:
        raise ConfigError(f"strategy {config.strategy!r} cannot train with remote parties "
                          "(only the gradient-casting strategies: dagan, mdgan, swift)")
    if config.privacy.enabled:
        raise ConfigError("differential privacy of the critics is not offered for remote "
                          "parties yet")


def _declarations(transport: Any, names: list[str], remote: RemoteParties,
                  config: SynthesizerConfig, label: str,
                  discrete: Sequence[str] | None) -> dict[str, h.Declaration]:
    settings = h.dumps({"max_modes": config.model.max_modes, "seed": config.train.seed,
                        "label": label, "discrete": discrete_list(discrete)})
    hello = h.Hello(h.PROTOCOL, remote.contract, settings)
    replies = transport.send_round(names, [hello] * len(names))
    for name, reply in zip(names, replies):
        if reply.party != name:
            raise PartyRefusedError(f"the endpoint of {name!r} answered as {reply.party!r}",
                                    party=name, step="Hello")
        if reply.contract != remote.contract:
            raise PartyRefusedError(f"contract {reply.contract[:12]} differs from the "
                                    f"coordinator's {remote.contract[:12]}", party=name,
                                    step="Hello")
    return dict(zip(names, replies))


def _run_id(config: SynthesizerConfig, encoder: Any, names: list[str]) -> str:
    text = json.dumps([config.to_dict(), encoder.to_dict(), names], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def begin_remote_fit(config: SynthesizerConfig, device: torch.device, remote: RemoteParties,
                     label: str, discrete_columns: Sequence[str] | None = None, *,
                     on_epoch_end: Callable[[Any], None] | None = None,
                     publish: Callable[[Any], None] | None = None) -> Any:
    """Set the parties up and return the fit in progress (a ``FitRun``).

    Raises:
        SchemaMismatchError: a party's columns differ from the others' (names party, column).
        RemotePartyError: a party refuses, answers as another party, or holds another contract.
    """
    from dagan_core.federation.remote.client import RemoteTransport
    from dagan_core.synthesizers.fit_run import FitRun

    _check_strategy(config)
    names = [str(p) for p in remote.endpoints]
    transport = RemoteTransport(remote.endpoints, remote.tls, timeout=remote.timeout,
                                retry_for=remote.retry_for)
    found = _declarations(transport, names, remote, config, label, discrete_columns)
    payloads = {p: json.loads(d.payload) for p, d in found.items()}
    declared = {p: {c: (kind, dtype) for c, kind, dtype in x["declaration"]}
                for p, x in payloads.items()}
    try:
        schema = agree_schema(declared, label)
    except SchemaMismatchError:
        transport.close()
        raise
    summaries = {p: PartySummary.from_dict(payloads[p]["summary"]) for p in names}
    encoder = build_encoder(schema, summaries.values(), config)
    child = np.random.SeedSequence(config.train.seed).spawn(1)[0].spawn(len(names) + 2)
    run = _run_id(config, encoder, names)
    setups = [h.Setup(h.dumps({"encoder": encoder.to_dict(), "config": config.to_dict(),
                               "code": i, "n_codes": len(names), "seed": _seed(child[i]),
                               "run": run})) for i in range(len(names))]
    ready = transport.send_round(names, setups)
    infos = [PartyInfo(p, r.rows, r.pac) for p, r in zip(names, ready)]
    trainer = RemoteTrainer(transport, infos, encoder.layout, config, _seed(child[-1]), device)
    steps = max(1, sum(s.n_rows for s in summaries.values()) // config.train.batch_size)
    return FitRun(config, device, trainer, steps, encoder=encoder, summaries=summaries,
                  on_epoch_end=on_epoch_end, checkpoint_dir=None, publish=publish)


def _seed(seq: np.random.SeedSequence) -> int:
    return int(seq.generate_state(1, dtype=np.uint32)[0])


def is_remote(parties: object) -> bool:
    """Whether ``fit`` was given remote parties instead of tables."""
    return isinstance(parties, RemoteParties)


__all__ = ["RemoteParties", "RemoteTrainer", "begin_remote_fit", "is_remote"]
