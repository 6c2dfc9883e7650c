"""The set-up messages between the coordinator and a remote party (before and around training).

They never carry a row: the party's column declaration and summary (the items of section 1 of
docs/federation.md), the agreed schema, the encoder and the training configuration, seeds, and
per epoch its local-attention weights and DP budget (the training statistics of section 2).

Coordinator -> party, each answered by the message below it:

- :class:`Handshake` -> :class:`PartyHello`: the coordinator's contract fingerprint, the label,
  the agreed schema (``None``: only the party's declaration is asked for) and the training
  configuration; the party answers with its declaration, its summary under that schema and its
  own contract fingerprint, or refuses if the fingerprint or the schema differs.
- :class:`Setup` -> :class:`SetupDone`: the training run's id, the configuration, the global
  encoder, the party's seed, code and the number of codes; the party encodes its rows and builds
  its critic, optimizer, local attention state and DP accountant, as in-process training does.
- :class:`Resume` -> :class:`Resumed`: load the party's state saved after ``epoch`` of ``run_id``.
- :class:`EpochEnd` -> :class:`EpochSaved`: save the party's state of the epoch just run.
- :class:`StatusRequest` -> :class:`PartyStatus`: what the party reports about itself at any
  time (its ingest counts and contract verdict, and, when the contract fingerprints agree and
  summary settings are given, its declaration, summary under its own schema and imbalance
  profile). Read-only: it changes no state of the party and may arrive during training.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PROTOCOL = 1  # version of this exchange; both sides refuse another


@dataclass(frozen=True)
class Handshake:
    """Coordinator -> party: agree the contract and the schema."""

    protocol: int
    contract_fingerprint: str
    label: str
    schema: dict[str, Any] | None
    config: dict[str, Any]


@dataclass(frozen=True)
class PartyHello:
    """Party -> coordinator: its declaration (name -> [kind, dtype]) and summary (or None)."""

    protocol: int
    party: str
    contract_fingerprint: str
    declaration: dict[str, Any]
    summary: dict[str, Any] | None


@dataclass(frozen=True)
class Setup:
    """Coordinator -> party: build the party's training state for run ``run_id``."""

    run_id: str
    config: dict[str, Any]
    encoder: dict[str, Any]
    seed: int
    code: int
    n_codes: int


@dataclass(frozen=True)
class SetupDone:
    """Party -> coordinator: its training row count and pack size, and the row count of each
    label class its critic trains on (the label counts of its summary, less its holdout)."""

    n_rows: int
    pac: int
    label_counts: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "label_counts", tuple(self.label_counts))  # JSON gives a list


@dataclass(frozen=True)
class Resume:
    """Coordinator -> party: continue from the party's state saved after ``epoch``."""

    run_id: str
    epoch: int


@dataclass(frozen=True)
class Resumed:
    """Party -> coordinator: the epoch resumed, its pi over label classes and DP budget."""

    epoch: int
    label_probs: list[float] | None
    dp: list[float] | None


@dataclass(frozen=True)
class EpochEnd:
    """Coordinator -> party: epoch ``epoch`` of run ``run_id`` is over; save the party's state."""

    run_id: str
    epoch: int


@dataclass(frozen=True)
class EpochSaved:
    """Party -> coordinator: saved; its pi over label classes and (epsilon, delta) spent."""

    epoch: int
    label_probs: list[float] | None
    dp: list[float] | None


@dataclass(frozen=True)
class StatusRequest:
    """Coordinator -> party: report yourself. ``max_modes``/``seed``: the summary's settings
    (0 max_modes: no summary asked for)."""

    protocol: int
    contract_fingerprint: str
    max_modes: int
    seed: int


@dataclass(frozen=True)
class PartyStatus:
    """Party -> coordinator: aggregates only, never a row.

    ``report``: the party's ingest counts and contract verdict (``rows``, and where the party
    ingested with the pipeline's contract ``rows_read``, ``rows_validated``,
    ``rows_quarantined``, ``contract_passed``, ``rule_failures`` (rule -> rows)).
    ``declaration``, ``summary``, ``profile``: as in the party summary asset, or None when the
    fingerprints differ or no summary was asked for.
    """

    protocol: int
    party: str
    contract_fingerprint: str
    report: dict[str, Any]
    declaration: dict[str, Any] | None
    summary: dict[str, Any] | None
    profile: dict[str, Any] | None


CONTROL_REQUESTS = (Handshake, Setup, Resume, EpochEnd, StatusRequest)
CONTROL_REPLIES = (PartyHello, SetupDone, Resumed, EpochSaved, PartyStatus)
