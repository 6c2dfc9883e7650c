"""Per-party assets with remote parties: what each party reports, never a row.

The party validates its own landing files on its own host (``dagan party serve``: the same
ingest assets, contract and quarantine). The coordinator's ``validated_party_table`` records the
party's counts and contract verdict (and the blocking ``party_table_contract`` check from that
verdict and the contract fingerprints); ``party_summary`` is the summary the party computes from
its validated table, asked for over mutual TLS. Same asset keys, partitions (party names from
the federation file) and run configuration as with simulated parties, so ``global_encoder`` and
everything downstream is unchanged.
"""


from collections.abc import Iterator
from typing import Any

import dagster as dg
import pandas as pd

from pipelines.defs.ingest.contract_check import CHECK_NAME
from pipelines.defs.remote.resource import RemoteParties
from pipelines.defs.summaries.config import SummaryConfig
from pipelines.defs.summaries.metadata import PROFILE_SCHEMA, party_summary_metadata
from pipelines.metadata import json_value, md_table

COUNTS = ("rows_read", "rows_validated", "rows_quarantined")


def reached(remote: RemoteParties, party: str, max_modes: int = 0, seed: int = 0) -> Any:
    """The party's probe; fails the step naming party, endpoint and reason if it did not
    answer."""
    probe = remote.probe(party, max_modes=max_modes, seed=seed)
    if not probe.reachable:
        raise dg.Failure(f"party {party!r} at {probe.endpoint} is {probe.state}: {probe.error}",
                         metadata={"party": party, "endpoint": probe.endpoint,
                                   "state": probe.state})
    return probe


def verdict(party: str, probe: Any, coordinator_fingerprint: str) -> dg.AssetCheckResult:
    """``party_table_contract`` from the party's verdict and contract fingerprint."""
    report = probe.status.report
    common = {"party": party, "party_contract_fingerprint": probe.status.contract_fingerprint,
              "coordinator_contract_fingerprint": coordinator_fingerprint,
              "rule_failures": json_value(report.get("rule_failures") or {})}
    if not probe.fingerprint_matches:
        return dg.AssetCheckResult(
            check_name=CHECK_NAME, passed=False, severity=dg.AssetCheckSeverity.ERROR,
            description=(f"party {party!r} validated its rows against contract fingerprint "
                         f"{probe.status.contract_fingerprint}, the coordinator's contract is "
                         f"{coordinator_fingerprint}"), metadata=common)
    if report.get("contract_passed") is False:
        return dg.AssetCheckResult(
            check_name=CHECK_NAME, passed=False, severity=dg.AssetCheckSeverity.ERROR,
            description=f"party {party!r} reports that its table breaks the contract",
            metadata=common)
    quarantined = int(report.get("rows_quarantined") or 0)
    text = (f"party {party!r} reports {quarantined} of {report.get('rows_read')} rows "
            "quarantined at the party" if quarantined else
            f"party {party!r} reports its {report['rows']} rows meet the contract")
    return dg.AssetCheckResult(
        check_name=CHECK_NAME, passed=True,
        severity=dg.AssetCheckSeverity.WARN if quarantined else dg.AssetCheckSeverity.ERROR,
        description=text, metadata=common)


def party_report_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """``validated_party_table`` and ``party_summary`` of remote parties over ``partitions``."""

    @dg.asset(
        name="validated_party_table",
        partitions_def=partitions,
        group_name="ingest",
        kinds={"grpc"},
        owners=["team:data-engineering"],
        tags={"privacy": "counts-only"},
        check_specs=[dg.AssetCheckSpec(
            CHECK_NAME, asset="validated_party_table", blocking=True,
            description="The party's own contract verdict, and its contract fingerprint "
            "against the coordinator's: a different contract or a broken table fails it and "
            "stops this party's downstream assets.")],
        description=(
            "Remote party: its validated table stays on its host (it validated its landing "
            "files there with the same contract and quarantine). Here: the counts and contract "
            "verdict the party reports over mutual TLS (rows read = validated + quarantined)."
        ),
    )
    def validated_party_table(
        context: dg.AssetExecutionContext, remote_parties: RemoteParties
    ) -> Iterator[dg.AssetCheckResult | dg.MaterializeResult]:
        party = context.partition_key
        probe = reached(remote_parties, party)
        check = verdict(party, probe, remote_parties.fingerprint())
        context.log.info(check.description or "")
        yield check
        report = probe.status.report
        counts = {k: int(report[k]) for k in COUNTS if k in report}
        failures = report.get("rule_failures") or {}
        yield dg.MaterializeResult(metadata={
            "party": party,
            "endpoint": probe.endpoint,
            "held_at": "the party's own host (never copied here)",
            **counts,
            "dagster/row_count": int(report.get("rows_validated", report["rows"])),
            "quarantine_by_rule": md_table(pd.DataFrame(
                sorted(failures.items()), columns=["rule", "rows"])),
            "contract_fingerprint": probe.status.contract_fingerprint,
            "latency_ms": probe.latency_ms,
        })

    @dg.asset(
        name="party_summary",
        partitions_def=partitions,
        group_name="summaries",
        deps=[validated_party_table],
        kinds={"grpc"},
        owners=["team:data-engineering"],
        tags={"privacy": "counts-only"},
        metadata={"dagster/column_schema": PROFILE_SCHEMA},
        description=(
            "Remote party: the summary it computes on its host from its validated table (row "
            "count, category counts, a Gaussian mixture and range per continuous column) and its "
            "label imbalance, asked for over mutual TLS. Never a row."
        ),
    )
    def party_summary(
        context: dg.AssetExecutionContext, config: SummaryConfig, remote_parties: RemoteParties
    ) -> dg.Output[dict[str, Any]]:
        from dagan_core.data.summary import PartySummary
        from dagan_core.profiling import PartyProfile

        party = context.partition_key
        probe = reached(remote_parties, party, config.max_modes, config.seed)
        status = probe.status
        if status.summary is None:
            raise dg.Failure(f"party {party!r} sent no summary: its contract fingerprint "
                             f"{status.contract_fingerprint} is not the coordinator's "
                             f"{remote_parties.fingerprint()}")
        summary = PartySummary.from_dict(status.summary)
        profile = PartyProfile(**status.profile)
        context.log.info(f"party {party}: {summary.n_rows} rows, imbalance ratio "
                         f"{profile.imbalance_ratio:.2f} (reported by the party)")
        value = {"party": party, "declaration": status.declaration, "summary": status.summary,
                 "profile": status.profile, "max_modes": config.max_modes, "seed": config.seed}
        return dg.Output(value, metadata={**party_summary_metadata(summary, profile),
                                          "endpoint": probe.endpoint})

    return [validated_party_table, party_summary]
