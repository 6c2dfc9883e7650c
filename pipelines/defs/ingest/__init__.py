"""Ingest domain: landing files -> raw party table -> contract check -> validated party table.

Needs the resources ``landing`` (LandingArea) and ``party_store`` (PartyStore).
"""

import dagster as dg

from pipelines.defs.ingest.assets import raw_party_table, validated_party_table
from pipelines.defs.ingest.checks import party_table_contract
from pipelines.defs.ingest.sensors import ingest_job, party_sensor

defs = dg.Definitions(
    assets=[raw_party_table, validated_party_table],
    asset_checks=[party_table_contract],
    sensors=[party_sensor],
    jobs=[ingest_job],
)

__all__ = [
    "defs",
    "ingest_job",
    "party_sensor",
    "party_table_contract",
    "raw_party_table",
    "validated_party_table",
]
