"""Ingest domain: landing files -> raw party table -> validated party table (with its blocking
contract check ``party_table_contract``, from the same validation run).

Needs the resources ``landing`` (LandingArea) and ``party_store`` (PartyStore).
"""

import dagster as dg

from pipelines.defs.ingest.assets import raw_party_table, validated_party_table
from pipelines.defs.ingest.sensors import ingest_job, party_sensor

defs = dg.Definitions(
    assets=[raw_party_table, validated_party_table],
    sensors=[party_sensor],
    jobs=[ingest_job],
)

__all__ = [
    "defs",
    "ingest_job",
    "party_sensor",
    "raw_party_table",
    "validated_party_table",
]
