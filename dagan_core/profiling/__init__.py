"""Imbalance profiles of party tables (intra-party) and of a federation of parties (inter-party).

A :class:`PartyProfile` summarises one party's table without exposing rows: its size, label mix,
category shares of its discrete columns and null rates. :class:`CrossPartyProfile` compares the
label mixes of several parties (size skew, Jensen-Shannon divergence to the pooled mix, classes a
party lacks, classes held by one party only).

Both offer ``to_dict()`` (JSON-ready) and ``to_frame()``: a long, tidy frame with the columns
``party, kind, column, value, metric`` where ``kind`` names the quantity (``n_rows``,
``class_count``, ``class_share``, ...), ``column`` the table column it is about (or None),
``value`` the class / category it is about (or None) and ``metric`` the number itself.
"""

from dagan_core.profiling.cross_party import CrossPartyProfile, profile_parties
from dagan_core.profiling.frames import FRAME_COLUMNS, js_divergence
from dagan_core.profiling.party import (
    PartyCounts,
    PartyProfile,
    profile_party,
    profile_party_chunks,
)

__all__ = [
    "FRAME_COLUMNS",
    "CrossPartyProfile",
    "PartyCounts",
    "PartyProfile",
    "js_divergence",
    "profile_parties",
    "profile_party",
    "profile_party_chunks",
]
