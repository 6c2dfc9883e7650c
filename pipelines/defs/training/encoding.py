"""The model version's encoder and party summaries, read back from ``global_encoder``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def shared_encoding(encoding: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The ``TableEncoder`` and the party -> ``PartySummary`` mapping that ``fit`` takes."""
    from dagan_core.data.encoder import TableEncoder
    from dagan_core.data.summary import PartySummary

    encoder = TableEncoder.from_dict(encoding["encoder"])
    summaries = {p: PartySummary.from_dict(encoding["summaries"][p]) for p in encoding["parties"]}
    return encoder, summaries
