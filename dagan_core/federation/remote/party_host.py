"""A party on its own host: its validated table, its summary, and (after set-up) its critic.

:class:`PartyHost` answers the set-up messages (:mod:`.handshake`) and then hands every training
message to the :class:`~dagan_core.federation.party.Party` it built, the same class the
in-process transport delivers to, so a remote party trains exactly as an in-process one.
:func:`serve_party` puts a host behind a :class:`~.server.PartyServer` (mutual TLS).
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from dagan_core.config import SynthesizerConfig
from dagan_core.data.encoder import TableEncoder
from dagan_core.data.schema import validate_table
from dagan_core.data.summary import summarize_party
from dagan_core.federation.remote import handshake as h
from dagan_core.prepare import agree_schema, party_schema

logger = logging.getLogger(__name__)


class SetupRefused(ValueError):
    """A set-up message this party cannot accept (the message says why)."""


class PartyHost:
    """Holds one party's rows; builds its critic when the coordinator sets the run up.

    Args:
        name: the party's name (as in its certificate).
        table: its validated table (it never leaves this process).
        contract: fingerprint of the contract the table was validated against.
        device: torch device of the critic.
    """

    def __init__(self, name: str, table: pd.DataFrame, contract: str, device: Any = "cpu"):
        import torch

        self.name = name
        self.contract = contract
        self.device = torch.device(device)
        self._table = table
        self._label: str | None = None
        self.party: Any = None
        self.run: str | None = None

    @property
    def layout(self) -> Any:
        """The row layout once set up (the server checks fake rows' width against it)."""
        return None if self.party is None else self.party.layout

    def handle(self, message: object) -> object:
        """Answer a set-up message, or hand a training message to the party's critic."""
        if isinstance(message, h.Hello):
            return self._hello(message)
        if isinstance(message, h.Setup):
            return self._setup(message)
        if self.party is None:
            raise SetupRefused(f"{type(message).__name__} before the run was set up")
        return self.party.handle(message)

    def _hello(self, hello: h.Hello) -> h.Declaration:
        if hello.protocol != h.PROTOCOL:
            raise SetupRefused(f"set-up protocol {hello.protocol} is not {h.PROTOCOL}")
        if hello.contract != self.contract:
            raise SetupRefused(f"party {self.name!r} validated its rows against contract "
                               f"{self.contract[:12]}, the coordinator asks for "
                               f"{hello.contract[:12]}")
        settings = json.loads(hello.settings)
        self._label = settings["label"]
        declared = party_schema(self.name, self._table, settings["label"],
                                settings.get("discrete"))
        schema = agree_schema({self.name: declared}, settings["label"])
        checked = validate_table(self.name, self._table, schema)
        summary = summarize_party(self.name, checked, schema, int(settings["max_modes"]),
                                  int(settings["seed"]))
        payload = {"declaration": [[c, *v] for c, v in declared.items()],  # in table order
                   "summary": summary.to_dict()}
        return h.Declaration(self.name, self.contract, h.dumps(payload))

    def _setup(self, setup: h.Setup) -> h.Ready:
        from dagan_core.federation.party import Party

        if self._label is None:
            raise SetupRefused("Setup before Hello")
        spec = json.loads(setup.payload)
        if self.party is not None and spec["run"] != self.run:
            raise SetupRefused(f"party {self.name!r} is set up for run {self.run}, not "
                               f"{spec['run']}; restart it to join another run")
        encoder = TableEncoder.from_dict(spec["encoder"])
        config = SynthesizerConfig.from_dict(spec["config"])
        rows = encoder.encode(validate_table(self.name, self._table, encoder.schema),
                              party=self.name)
        self.party = Party(self.name, rows, encoder.layout, config,
                           party_codes=np.full(len(rows), int(spec["code"])),
                           n_codes=int(spec["n_codes"]), seed=int(spec["seed"]),
                           device=self.device)
        self.run = str(spec["run"])
        logger.info("party %r set up for run %s: %d rows, pack %d", self.name, self.run,
                    len(rows), self.party.pac)
        return h.Ready(rows=int(self.party.n_rows), pac=int(self.party.pac), run=self.run)


def serve_party(table: pd.DataFrame, party: str, tls: Any, *, contract: str,
                address: str = "127.0.0.1:0", coordinator: str = "coordinator",
                device: str = "cpu", ready: Any = None) -> None:
    """Serve ``party`` until SIGTERM or SIGINT (blocking).

    ``ready``, if given, is called with the bound address once the server answers (a
    multiprocessing queue's ``put`` works).
    """
    from dagan_core.federation.remote.server import PartyServer

    host = PartyHost(party, table, contract, device=device)
    server = PartyServer(host, party, tls, address=address, coordinator=coordinator).start()
    stop = _stop_on_signals()
    if ready is not None:
        ready(server.address)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    logger.info("party %r stopping", party)
    server.stop(2)


def _stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT (when called from the main thread)."""
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    return stop


def discrete_list(columns: Sequence[str] | None) -> list[str] | None:
    """JSON-ready discrete columns (None: inferred from dtypes at each party)."""
    return None if columns is None else [str(c) for c in columns]
