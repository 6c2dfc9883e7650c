"""Partition definitions shared by the pipeline's domains."""

from __future__ import annotations

import dagster as dg

from pipelines.datasets import active_dataset

#: Suffix of the partition sets of a dataset with a warehouse namespace, so that the datasets'
#: parties and versions stay apart in one Dagster instance (Adult's sets keep their plain names).
_SUFFIX = f"_{active_dataset().namespace}" if active_dataset().namespace else ""

#: One partition per party. Keys are the party folder names in the landing area; the party sensor
#: adds a key when a new folder appears. (``parties_<namespace>`` for another dataset.)
party_partitions = dg.DynamicPartitionsDefinition(name=f"parties{_SUFFIX}")

#: One partition per trained model version (e.g. ``demo``, ``weekly-2026-11-23``). Retraining adds
#: a key and never overwrites an older version's checkpoint or rows.
model_versions = dg.DynamicPartitionsDefinition(name=f"model_versions{_SUFFIX}")
