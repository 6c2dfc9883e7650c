"""Partition definitions shared by the pipeline's domains."""

from __future__ import annotations

import dagster as dg

#: One partition per party. Keys are the party folder names in the landing area; the party sensor
#: adds a key when a new folder appears.
party_partitions = dg.DynamicPartitionsDefinition(name="parties")

#: One partition per trained model version (e.g. ``demo``, ``weekly-2026-11-23``). Retraining adds
#: a key and never overwrites an older version's checkpoint or rows.
model_versions = dg.DynamicPartitionsDefinition(name="model_versions")
