"""A party on its own host: its table, its set-up, its critic, its epoch states.

:class:`PartyHost` is what :class:`~.server.PartyServer` serves for a real party. It holds the
party's own validated table and answers the set-up messages of :mod:`.control`:

- ``Handshake``: refuses a coordinator whose contract fingerprint or protocol differs, or whose
  schema differs from the party's table (a missing or extra column, another kind, a value the
  schema does not allow), naming the difference; otherwise answers its declaration
  (:func:`~dagan_core.prepare.party_schema`) and its summary under the agreed schema;
- ``Setup``: encodes its rows with the coordinator's global encoder and builds its
  :class:`~dagan_core.federation.party.Party` (critic, optimizer, local attention state, DP
  accountant) from the seed, code and configuration, exactly as in-process training does;
- ``Resume`` / ``EpochEnd``: loads / saves its state of a training run's epoch in its own state
  folder (:mod:`.party_state`);
- ``StatusRequest``: its ingest counts, contract verdict and (same contract) summary
  (:mod:`.party_status`), whatever its training state;

and hands the training messages to its ``Party``. :func:`serve_party` runs one until stopped.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from dagan_core.config import SynthesizerConfig
from dagan_core.data.encoder import TableEncoder
from dagan_core.data.schema import TableSchema, validate_table
from dagan_core.data.summary import summarize_party
from dagan_core.errors import DAGANError
from dagan_core.federation.pack_rule import same_but_resolved
from dagan_core.federation.party import Party
from dagan_core.federation.remote import control as c
from dagan_core.federation.remote.errors import SetupRefused
from dagan_core.federation.remote.party_state import PartyStateStore
from dagan_core.federation.remote.party_status import checked_report, party_status
from dagan_core.federation.remote.server import MAX_MESSAGE_BYTES, PartyServer
from dagan_core.federation.remote.tls import COORDINATOR, TLSFiles
from dagan_core.prepare import party_schema
from dagan_core.strategies import get_strategy

logger = logging.getLogger(__name__)


def schema_differences(declaration: dict[str, Any], schema: TableSchema) -> list[str]:
    """How a party's declaration differs from the agreed schema (empty: it agrees)."""
    out = [f"column {col!r} of the agreed schema is missing from the party's table"
           for col in schema.names if col not in declaration]
    out += [f"column {col!r} of the party's table is not in the agreed schema"
            for col in declaration if col not in schema.names]
    for spec in schema.columns:
        kind = declaration.get(spec.name, (spec.kind,))[0]
        if kind != spec.kind:
            out.append(f"column {spec.name!r} is {kind} at the party but {spec.kind} in the "
                       "agreed schema")
    return out


def check_remote_strategy(config: SynthesizerConfig) -> None:
    """Refuse strategies whose party critics cannot run each at its own host."""
    strategy = get_strategy(config.strategy)
    if strategy.pooled or strategy.gan_per_party:
        raise DAGANError(f"strategy {config.strategy!r} cannot train with remote parties: "
                         "it pools rows or trains a generator at each party")
    if config.train.batched_critics == "on":
        raise DAGANError("batched_critics='on' needs the parties' critics in one process; "
                         "remote parties each run their own")


class PartyHost:
    """One party's side of the federation (see module docstring).

    Args:
        table: the party's validated table; it never leaves this object.
        name: the party's name (as in its certificate).
        label: the label column.
        discrete_columns: the discrete columns (None: inferred from dtypes, as in ``fit``).
        contract_fingerprint: the fingerprint of the data contract this party validated
            against (the coordinator must present the same).
        state_dir: where the party keeps its epoch states (None: it keeps none, and cannot
            resume).
        device: where its critic trains.
        report: the party's ingest counts and contract verdict, answered to a status request
            (keys of :data:`~.party_status.REPORT_KEYS`; the row count is always added).
    """

    def __init__(self, table: pd.DataFrame, name: str, label: str,
                 discrete_columns: Sequence[str] | None, *, contract_fingerprint: str,
                 state_dir: str | Path | None = None, device: str | torch.device = "cpu",
                 report: dict[str, Any] | None = None):
        """Declare the table's columns (which refuses an unusable table at once)."""
        self.name = name
        self.report = checked_report(report, len(table))
        self.label = label
        self.contract_fingerprint = contract_fingerprint
        self.declaration = party_schema(name, table, label, discrete_columns)
        self.store = PartyStateStore(state_dir, name)
        self.device = torch.device(device)
        self._table = table
        self._schema: TableSchema | None = None
        self._config: dict[str, Any] | None = None
        self.party: Party | None = None
        self.run_id: str | None = None

    @property
    def layout(self) -> Any:
        """The encoded row layout after set-up (None before)."""
        return None if self.party is None else self.party.layout

    def handle(self, message: object) -> object:
        """Answer one message of the coordinator."""
        if isinstance(message, c.Handshake):
            return self._hello(message)
        if isinstance(message, c.Setup):
            return self._setup(message)
        if isinstance(message, c.Resume):
            return self._resume(message)
        if isinstance(message, c.EpochEnd):
            return self._save(message)
        if isinstance(message, c.StatusRequest):
            return party_status(self.name, self._table, self.label, self.declaration,
                                self.contract_fingerprint, self.report, message)
        if self.party is None:
            raise SetupRefused(f"the party is not set up for training: "
                               f"{type(message).__name__} before Setup")
        return self.party.handle(message)

    # ---- set-up -------------------------------------------------------------------------------
    def _hello(self, msg: c.Handshake) -> c.PartyHello:
        self.party, self._schema, self.run_id = None, None, None
        if msg.protocol != c.PROTOCOL:
            raise SetupRefused(f"the party speaks set-up protocol {c.PROTOCOL}, the "
                               f"coordinator {msg.protocol}")
        if msg.contract_fingerprint != self.contract_fingerprint:
            raise SetupRefused(
                f"contract fingerprint differs: the party validated its data against "
                f"{self.contract_fingerprint!r}, the coordinator's is {msg.contract_fingerprint!r}")
        if msg.label != self.label:
            raise SetupRefused(f"the party was started with label {self.label!r}, the "
                               f"coordinator trains on {msg.label!r}")
        declaration = {k: list(v) for k, v in self.declaration.items()}
        if msg.schema is None:
            return c.PartyHello(c.PROTOCOL, self.name, self.contract_fingerprint, declaration,
                                None)
        schema = TableSchema.from_dict(msg.schema)
        diffs = schema_differences(self.declaration, schema)
        if diffs:
            raise SetupRefused("schema differs: " + "; ".join(diffs))
        config = SynthesizerConfig.from_dict(msg.config)
        try:
            checked = validate_table(self.name, self._table, schema)
        except DAGANError as exc:
            raise SetupRefused(str(exc)) from None
        summary = summarize_party(self.name, checked, schema, config.model.max_modes,
                                  config.train.seed)
        self._schema, self._config = schema, msg.config
        return c.PartyHello(c.PROTOCOL, self.name, self.contract_fingerprint, declaration,
                            summary.to_dict())

    def _setup(self, msg: c.Setup) -> c.SetupDone:
        if self._schema is None:
            raise SetupRefused("Setup before an agreed Handshake")
        encoder = TableEncoder.from_dict(msg.encoder)
        if encoder.schema != self._schema:
            raise SetupRefused("the encoder's schema is not the schema agreed at the handshake")
        config = SynthesizerConfig.from_dict(msg.config)
        if not same_but_resolved(SynthesizerConfig.from_dict(self._config), config):
            raise SetupRefused("the configuration differs from the one of the handshake")
        try:
            check_remote_strategy(config)
        except DAGANError as exc:
            raise SetupRefused(str(exc)) from None
        if msg.code >= msg.n_codes:
            raise SetupRefused(f"party code {msg.code} of {msg.n_codes} codes")
        encoded = encoder.encode(validate_table(self.name, self._table, self._schema),
                                 party=self.name)
        self.party = Party(self.name, encoded, encoder.layout, config,
                           party_codes=np.full(len(encoded), msg.code), n_codes=msg.n_codes,
                           seed=msg.seed, device=self.device)
        self.run_id = msg.run_id
        logger.info("party %r set up for training run %s", self.name, msg.run_id)
        return c.SetupDone(self.party.n_rows, self.party.pac,
                           tuple(int(n) for n in self.party.sampler.label_counts))

    # ---- epoch states -------------------------------------------------------------------------
    def _ready(self, run_id: str, what: str) -> Party:
        if self.party is None or run_id != self.run_id:
            raise SetupRefused(f"the party is not set up for training run {run_id}: "
                               f"{what} refused")
        return self.party

    def _stats(self) -> tuple[list[float] | None, list[float] | None]:
        assert self.party is not None
        probs = self.party.label_probs()
        spent = self.party.dp_epsilon()
        return (None if probs is None else [float(x) for x in probs],
                None if spent is None else [float(x) for x in spent])

    def _resume(self, msg: c.Resume) -> c.Resumed:
        party = self._ready(msg.run_id, "Resume")
        party.load_state_dict(self.store.load(msg.run_id, msg.epoch, self.device))
        logger.info("party %r resumed training run %s after epoch %d", self.name, msg.run_id,
                    msg.epoch)
        return c.Resumed(msg.epoch, *self._stats())

    def _save(self, msg: c.EpochEnd) -> c.EpochSaved:
        party = self._ready(msg.run_id, "EpochEnd")
        self.store.save(msg.run_id, msg.epoch, party.state_dict())
        return c.EpochSaved(msg.epoch, *self._stats())


def start_party(table: pd.DataFrame, party: str, label: str,
                discrete_columns: Sequence[str] | None, tls: TLSFiles | None, address: str,
                state_dir: str | Path | None, contract_fingerprint: str, *,
                coordinator: str = COORDINATOR, device: str = "cpu",
                max_message_bytes: int = MAX_MESSAGE_BYTES,
                report: dict[str, Any] | None = None, **plaintext: bool) -> PartyServer:
    """Start serving a party and return its server; see :func:`serve_party`.

    Mutual TLS; ``tls=None`` with ``insecure_plaintext=True`` serves in plaintext, on loopback
    only unless ``allow_remote_plaintext=True`` (:mod:`.plaintext`).
    """
    host = PartyHost(table, party, label, discrete_columns,
                     contract_fingerprint=contract_fingerprint, state_dir=state_dir,
                     device=device, report=report)
    return PartyServer(host, party, tls, address=address, coordinator=coordinator,
                       max_message_bytes=max_message_bytes, **plaintext).start()


def serve_party(table: pd.DataFrame, party: str, label: str,
                discrete_columns: Sequence[str] | None, tls: TLSFiles, address: str,
                state_dir: str | Path | None, contract_fingerprint: str, *,
                coordinator: str = COORDINATOR, device: str = "cpu",
                max_message_bytes: int = MAX_MESSAGE_BYTES,
                on_ready: Callable[[str], None] | None = None,
                report: dict[str, Any] | None = None, **plaintext: bool) -> None:
    """Serve a party until stopped (SIGTERM or SIGINT in the main thread, or the process ends).

    Args:
        table: the party's own table, validated against the contract (only aggregates and the
            messages of docs/federation.md leave this process).
        party: the party's name; its certificate (``tls.cert``) must name it.
        label, discrete_columns: as for ``fit``.
        tls: the authority the party trusts and its own certificate and key.
        address: "host:port" to listen on (port 0: a free port, reported to ``on_ready``).
        state_dir: the party's own folder for its epoch states (None: no resume).
        contract_fingerprint: fingerprint of the contract the table was validated against.
        coordinator: the name the coordinator's certificate must carry.
        on_ready: called with the listening address once the server answers.
        report: the party's ingest counts and contract verdict (see :class:`PartyHost`).
        plaintext: ``insecure_plaintext`` / ``allow_remote_plaintext`` with ``tls=None``
            (:mod:`.plaintext`).
    """
    server = start_party(table, party, label, discrete_columns, tls, address, state_dir,
                         contract_fingerprint, coordinator=coordinator, device=device,
                         max_message_bytes=max_message_bytes, report=report, **plaintext)
    if threading.current_thread() is threading.main_thread():
        def stop(signum, frame):  # noqa: ARG001 - signal handler signature
            logger.info("party %r stopping (signal %d)", party, signum)
            threading.Thread(target=server.stop, args=(1.0,), daemon=True).start()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    if on_ready is not None:
        on_ready(server.address)
    server.wait()
