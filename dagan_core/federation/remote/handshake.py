"""The set-up messages of a remote party, before any training step.

1. ``Hello`` (coordinator -> party): protocol version, the contract fingerprint, and the summary
   settings (mixture modes, seed) as JSON. The party refuses a contract other than its own.
   ``Declaration`` (party -> coordinator): the party's name, its contract fingerprint, and as
   JSON its column declaration and its summary (docs/federation.md, section 1): nothing else.
2. ``Setup`` (coordinator -> party): as JSON the global encoder, the synthesizer config, the
   party's code and seed, and the training run's id. The party encodes its own rows and builds
   its critic exactly as an in-process party would. ``Ready`` (party -> coordinator): its row
   count (also in its summary), its pack size and the run id it set up for.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: version of the set-up conversation; a party refuses another one
PROTOCOL = 1


@dataclass(frozen=True)
class Hello:
    """Coordinator -> party: who asks, under which contract, with which summary settings."""

    protocol: int
    contract: str
    settings: str  # JSON: {"max_modes": int, "seed": int, "label": str, "discrete": [...]}


@dataclass(frozen=True)
class Declaration:
    """Party -> coordinator: its name, contract, column declaration and summary (JSON)."""

    party: str
    contract: str
    payload: str  # JSON: {"declaration": [[column, kind, dtype], ...], "summary": {...}}


@dataclass(frozen=True)
class Setup:
    """Coordinator -> party: the encoder and config to build its critic with (JSON)."""

    payload: str  # JSON: {"encoder", "config", "code", "n_codes", "seed", "run"}


@dataclass(frozen=True)
class Ready:
    """Party -> coordinator: set up for ``run``, with ``rows`` rows and pack size ``pac``."""

    rows: int
    pac: int
    run: str


def contract_fingerprint(path: str | Path) -> str:
    """sha256 of a contract file's bytes: equal files, equal fingerprints."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def dumps(payload: dict[str, Any]) -> str:
    """Compact JSON (no NaN) that keeps every mapping's order: the order of a declaration's
    columns is the schema's column order."""
    return json.dumps(payload, separators=(",", ":"), allow_nan=False)
