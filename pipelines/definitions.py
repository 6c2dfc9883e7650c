"""The code location: every domain's definitions plus the shared resources.

Load it with ``dagster dev -w workspace.yaml`` (or ``-m pipelines.definitions``). Two modes:
simulated parties (the default: every party is a landing folder of this machine) or, when
``DAGAN_FEDERATION_FILE`` names a federation file, remote parties (each serves its own rows on
its own host; see pipelines/defs/remote/ and docs/remote_parties.md).
"""

from pathlib import Path

import dagster as dg

from pipelines import settings
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


def build_defs(federation_file: str | Path | None = None) -> dg.Definitions:
    """The code location's definitions: remote parties if ``federation_file`` is given,
    simulated ones otherwise."""
    if federation_file is None:
        party_side = [ingest.defs, summaries.defs, training.defs]
    else:
        from pipelines.defs.remote import remote_defs

        party_side = [remote_defs(str(federation_file))]
    return dg.Definitions.merge(
        *party_side,
        synthesis.defs,
        evaluation.defs,
        analytics.defs,
        automation.defs,
        dg.Definitions(resources=resources()),
    )


defs = build_defs(settings.federation_file())
