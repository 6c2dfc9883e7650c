"""Profiling domain: per-party imbalance profiles and the cross-party comparison.

Needs the resource ``party_store`` (PartyStore) and an IO manager for the profile dictionaries.
"""

import dagster as dg

from pipelines.defs.profiling.assets import cross_party_profile, party_profile

defs = dg.Definitions(assets=[party_profile, cross_party_profile])

__all__ = ["cross_party_profile", "defs", "party_profile"]
