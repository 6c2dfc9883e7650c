"""The code location: every domain's definitions plus the shared resources.

Load it with ``dagster dev -w workspace.yaml`` (or ``-m pipelines.definitions``).
"""

import dagster as dg

from pipelines.defs import (
    analytics,
    automation,
    evaluation,
    ingest,
    summaries,
    synthesis,
    training,
)
from pipelines.resources.io import VarFilesystemIOManager
from pipelines.resources.landing import LandingArea
from pipelines.resources.model_store import ModelStore
from pipelines.resources.party_store import PartyStore
from pipelines.resources.warehouse import Warehouse


def resources() -> dict[str, object]:
    """Resources with their default locations (all movable with DAGAN_* environment variables)."""
    return {
        "party_store": PartyStore(),
        "landing": LandingArea(),
        "warehouse": Warehouse(),
        "model_store": ModelStore(),
        "io_manager": VarFilesystemIOManager(),
    }


defs = dg.Definitions.merge(
    ingest.defs,
    summaries.defs,
    training.defs,
    synthesis.defs,
    evaluation.defs,
    analytics.defs,
    automation.defs,
    dg.Definitions(resources=resources()),
)
