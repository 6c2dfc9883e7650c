"""What each party shares before any training, and the encoder built from it.

``party_summary`` (one per party) is computed at the party from its validated table: its row
count, the count of every category of every discrete column, a Gaussian mixture per continuous
column, and the imbalance profile (counts and shares only). ``global_encoder`` (one per model
version) merges the summaries into the shared schema and encoder that ``dagan_model`` trains with.

Needs the resource ``party_store`` (PartyStore) and an IO manager for the summary dictionaries.
"""

import dagster as dg

from pipelines.defs.summaries.global_encoder import global_encoder
from pipelines.defs.summaries.party_summary import party_summary

defs = dg.Definitions(assets=[party_summary, global_encoder])

__all__ = ["defs", "global_encoder", "party_summary"]
