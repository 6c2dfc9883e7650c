"""Fitting on remote parties: ``synth.fit(RemoteFederation(...), label=...)``.

The coordinator never sees a row. :func:`prepare_remote_fit` (which ``begin_fit`` calls):

1. handshakes with every party (:mod:`.control`): without a given schema it first asks for the
   parties' declarations and agrees the schema (:func:`~dagan_core.prepare.agree_schema`);
   then it sends its contract fingerprint, the schema and the configuration, and receives each
   party's summary; a party whose fingerprint or schema differs is refused, on both sides, with
   an error naming the party and the difference;
2. builds the global encoder from the summaries (:func:`~dagan_core.prepare.build_encoder`);
3. sends each party ``Setup`` (the encoder, the configuration, the party's seed and code, drawn
   as :class:`~dagan_core.synthesizers.trainers.FederatedTrainer` draws them), and each builds
   its own critic, optimizer, local attention state and DP accountant;
4. trains the unchanged coordinator through :class:`~.client.RemoteTransport`
   (:class:`~.trainer.RemoteTrainer`); with ``checkpoint_dir``, the coordinator keeps its own
   state there and each party its own in its state folder, so a restarted coordinator and
   parties resume to the model of an uninterrupted run.

Same data, configuration and seed: the same generator weights and sampled rows as the
in-process fit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from dagan_core.config import SynthesizerConfig
from dagan_core.data.encoder import TableEncoder
from dagan_core.data.schema import TableSchema
from dagan_core.data.summary import PartySummary
from dagan_core.errors import DAGANError, SchemaMismatchError
from dagan_core.federation.coordinator import Coordinator, PartyInfo
from dagan_core.federation.pack_rule import resolve_pac
from dagan_core.federation.remote import control as c
from dagan_core.federation.remote.client import RemoteTransport
from dagan_core.federation.remote.errors import PartyRefusedError
from dagan_core.federation.remote.party_host import check_remote_strategy
from dagan_core.federation.remote.tls import TLSFiles
from dagan_core.federation.remote.trainer import RemoteTrainer
from dagan_core.prepare import agree_schema, build_encoder, check_prepared
from dagan_core.strategies import get_strategy


@dataclass(frozen=True)
class RemoteFederation:
    """The parties of a fit, each served on its own host (see module docstring).

    Args:
        endpoints: party name -> "host:port", in party order (party codes follow it).
        tls: the authority that signed the parties' certificates and the coordinator's own
            certificate and key (None: plaintext, which needs ``transport_options=
            {"insecure_plaintext": True}`` and loopback endpoints, see
            :mod:`~dagan_core.federation.remote.plaintext`).
        contract_fingerprint: fingerprint of the data contract (e.g. the sha256 of the contract
            file); every party must present the same.
        schema: the agreed schema; None: agreed from the parties' declarations.
        timeout, retry_for, backoff, max_message_bytes: as for
            :class:`~.client.RemoteTransport`.
        on_party_lost: "fail" (default): a party that does not answer within ``retry_for``
            seconds fails the run (``PartyUnavailableError`` naming party and step);
            "continue": training goes on without it (logged as a warning; recorded in each
            epoch's ``lost_parties`` in the history and so in the saved model; its rows are
            left out of the release mix). The run still fails when no other party is left.
    """

    endpoints: Mapping[str, str]
    tls: TLSFiles | None
    contract_fingerprint: str
    schema: TableSchema | None = None
    timeout: float = 30.0
    retry_for: float = 60.0
    backoff: tuple[float, float] = (0.05, 2.0)
    max_message_bytes: int = 64 * 1024 * 1024
    transport_options: dict[str, Any] = field(default_factory=dict)
    on_party_lost: str = "fail"

    remote = True  # what ``fit`` looks for

    def __post_init__(self) -> None:
        """Refuse an unknown party-lost policy."""
        if self.on_party_lost not in ("fail", "continue"):
            raise DAGANError("on_party_lost must be 'fail' or 'continue', not "
                             f"{self.on_party_lost!r}")

    def connect(self) -> RemoteTransport:
        """A transport to the parties."""
        return RemoteTransport(self.endpoints, self.tls, timeout=self.timeout,
                               retry_for=self.retry_for, backoff=self.backoff,
                               max_message_bytes=self.max_message_bytes,
                               **self.transport_options)

    def prepare(self, config: SynthesizerConfig, device: torch.device, label: str,
                discrete_columns: Sequence[str] | None, **kwargs: Any) -> RemoteFit:
        """:func:`prepare_remote_fit` on these parties."""
        return prepare_remote_fit(self, config, device, label, discrete_columns, **kwargs)


@dataclass(frozen=True)
class RemoteFit:
    """What ``begin_fit`` trains with: the trainer, steps per epoch, encoder, summaries and the
    configuration the parties were set up with (an automatic ``pac`` resolved)."""

    trainer: RemoteTrainer
    steps: int
    encoder: TableEncoder
    summaries: dict[str, PartySummary]
    config: SynthesizerConfig


def _handshake(transport: RemoteTransport, fed: RemoteFederation, label: str,
               schema: TableSchema | None, config: SynthesizerConfig) -> dict[str, c.PartyHello]:
    hellos = {}
    for name in transport.party_names:
        hello = transport.control(name, c.Handshake(
            c.PROTOCOL, fed.contract_fingerprint, label,
            None if schema is None else schema.to_dict(), config.to_dict()))
        if hello.protocol != c.PROTOCOL or hello.party != name:
            raise PartyRefusedError(f"answered as party {hello.party!r} speaking set-up "
                                    f"protocol {hello.protocol}", party=name, step="Handshake")
        if hello.contract_fingerprint != fed.contract_fingerprint:
            raise PartyRefusedError(
                f"contract fingerprint differs: the party's is {hello.contract_fingerprint!r}, "
                f"the coordinator's {fed.contract_fingerprint!r}", party=name, step="Handshake")
        hellos[name] = hello
    return hellos


def _agreed_schema(transport: RemoteTransport, fed: RemoteFederation, label: str,
                   discrete_columns: Sequence[str] | None,
                   config: SynthesizerConfig) -> TableSchema:
    if fed.schema is not None:
        return fed.schema
    hellos = _handshake(transport, fed, label, None, config)
    schema = agree_schema({p: {k: tuple(v) for k, v in h.declaration.items()}
                           for p, h in hellos.items()}, label)
    if discrete_columns is not None:
        want = set(discrete_columns) | {label}
        for column in schema.names:
            if (column in want) != (column in schema.discrete_columns):
                raise SchemaMismatchError("the parties declare this column "
                                          f"{schema.spec(column).kind}, the coordinator does "
                                          "not", column=column)
    return schema


def run_id(fed: RemoteFederation, config: SynthesizerConfig, encoder: TableEncoder) -> str:
    """The training run's id: a digest of contract, configuration (seed included), encoder and
    parties; a restarted coordinator computes the same one."""
    blob = json.dumps({"contract": fed.contract_fingerprint, "config": config.to_dict(),
                       "encoder": encoder.to_dict(), "parties": list(fed.endpoints)},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _seed(seq: np.random.SeedSequence) -> int:
    return int(seq.generate_state(1, dtype=np.uint32)[0])


def _set_up(transport: RemoteTransport, config: SynthesizerConfig, encoder: TableEncoder,
            rid: str, device: torch.device, on_party_lost: str) -> RemoteTrainer:
    names = transport.party_names
    # the seeds FederatedTrainer draws: begin_fit's child sequence, then one per party + 2
    seeds = np.random.SeedSequence(config.train.seed).spawn(1)[0]
    child = seeds.spawn(len(names) + 2)
    infos = []
    for i, name in enumerate(names):
        done = transport.control(name, c.Setup(rid, config.to_dict(), encoder.to_dict(),
                                               _seed(child[i]), i, len(names)))
        infos.append(PartyInfo(name, done.n_rows, done.pac, tuple(done.label_counts)))
    coordinator = Coordinator(encoder.layout, infos, transport, config, n_codes=len(names),
                              seed=_seed(child[-1]), device=device,
                              participation=get_strategy(config.strategy).participation)
    return RemoteTrainer(coordinator, transport, rid, on_party_lost=on_party_lost)


def prepare_remote_fit(fed: RemoteFederation, config: SynthesizerConfig, device: torch.device,
                       label: str, discrete_columns: Sequence[str] | None = None, *,
                       encoder: TableEncoder | None = None,
                       summaries: Mapping[str, PartySummary] | None = None) -> RemoteFit:
    """Handshake, encoder and set-up; the trainer over the remote parties.

    Raises:
        PartyRefusedError: a party refused the contract, the schema or the set-up (or resuming:
            it lacks its state of this run), or the coordinator refused the party's answer.
        SchemaMismatchError: the parties' declarations do not agree.
        PartyUnavailableError: a party did not answer.
    """
    check_remote_strategy(config)
    if summaries is not None:
        raise DAGANError("remote parties send their own summaries at the handshake")
    if not fed.endpoints:
        raise DAGANError("no party endpoints given")
    transport = fed.connect()
    try:
        schema = encoder.schema if encoder is not None else _agreed_schema(
            transport, fed, label, discrete_columns, config)
        hellos = _handshake(transport, fed, label, schema, config)
        found = {p: PartySummary.from_dict(h.summary) for p, h in hellos.items()}
        encoder = encoder or build_encoder(schema, found.values(), config)
        check_prepared(list(found), encoder, found)
        config = resolve_pac(config, found.values(), schema.label)
        trainer = _set_up(transport, config, encoder, run_id(fed, config, encoder), device,
                          fed.on_party_lost)
        total = sum(s.n_rows for s in found.values())
        steps = max(1, total // config.train.batch_size)
        return RemoteFit(trainer, steps, encoder, found, config)
    except BaseException:
        transport.close()
        raise
