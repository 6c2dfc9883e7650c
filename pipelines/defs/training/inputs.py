"""What the model version trains on: the encoder and summaries of ``global_encoder``, the
parties' validated tables, and the mixture modes the summaries were made with."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
import pandas as pd

from pipelines.resources.party_store import PartyStore


def summary_max_modes(configured: int | None, encoding: Mapping[str, Any]) -> int:
    """The mixture modes of the version's summaries; a configured value must agree with them.

    Raises:
        dg.Failure: if ``max_modes`` is configured and differs from the summaries'.
    """
    used = int(encoding["max_modes"])
    if configured is not None and configured != used:
        raise dg.Failure(
            f"max_modes={configured} is configured, but the party summaries of this version were "
            f"made with max_modes={used}: set party_summary's max_modes to {configured} and "
            "rematerialize the summaries and global_encoder, or leave max_modes unset here"
        )
    return used


def load_party_tables(party_store: PartyStore, parties: Sequence[str]) -> dict[str, pd.DataFrame]:
    """Each party's validated rows, read party by party (they go only to that party's trainer)."""
    return {party: party_store.read_validated(party) for party in parties}


def shared_encoding(encoding: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The ``TableEncoder`` and the party -> ``PartySummary`` mapping that ``fit`` takes."""
    from dagan_core.data.encoder import TableEncoder
    from dagan_core.data.summary import PartySummary

    encoder = TableEncoder.from_dict(encoding["encoder"])
    summaries = {p: PartySummary.from_dict(encoding["summaries"][p]) for p in encoding["parties"]}
    return encoder, summaries
