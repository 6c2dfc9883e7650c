"""The code location's remote-party mode (``DAGAN_FEDERATION_FILE`` set).

Each party serves its own rows and critic on its own host (``dagan party serve``). Here:

- ``validated_party_table`` / ``party_summary`` (partitioned by the federation file's party
  names): what each party reports, counts, contract verdict and summary, never a row
  (:mod:`.party_reports`);
- ``global_encoder`` unchanged, from those summaries;
- ``dagan_model`` trained over gRPC with mutual TLS (:mod:`.training`);
- one external asset per party with its ``connection`` check (:mod:`.connections`);
- ``party_reports_job``: one party's report and summary (a partition per run).

Synthesis, evaluation and analytics are the simulated mode's, from the saved model.
"""

from __future__ import annotations

import dagster as dg

from pipelines.defs.remote.connections import connection_defs
from pipelines.defs.remote.party_reports import party_report_assets
from pipelines.defs.remote.resource import RemoteParties
from pipelines.defs.remote.training import REMOTE_STRATEGIES, dagan_model
from pipelines.defs.summaries import global_encoder
from pipelines.federation_file import read_federation


def remote_defs(federation_file: str) -> dg.Definitions:
    """The remote-party assets, checks and jobs of the parties of ``federation_file``.

    Raises:
        FederationFileError: the file is missing or incomplete (the message names the entry).
    """
    federation = read_federation(federation_file)
    partitions = dg.StaticPartitionsDefinition(federation.parties)
    reports = party_report_assets(partitions)
    reports_job = dg.define_asset_job(
        "party_reports_job", selection=dg.AssetSelection.assets(*reports),
        description="Ask one remote party for its ingest counts, contract verdict and summary "
        "(one partition per run).")
    return dg.Definitions.merge(
        dg.Definitions(assets=[*reports, global_encoder, dagan_model], jobs=[reports_job],
                       resources={"remote_parties": RemoteParties(
                           federation_file=str(federation.path))}),
        connection_defs(federation.parties, federation.endpoints),
    )


__all__ = ["REMOTE_STRATEGIES", "RemoteParties", "remote_defs"]
