"""Each remote party's connection state in the UI.

One external asset per party (``remote_party/<party>``, group ``federation``: the party's
server, which this code location does not materialize) carries the check ``connection``. Running
it contacts every selected party: a mutual-TLS connection in which the party must present a
certificate naming it, and a read-only status request. The check passes when the party answers
as itself with the coordinator's contract fingerprint; its metadata records the state
(``reachable`` / ``unreachable`` / ``refused``), the address, the connection and round-trip
times, whether the contract fingerprints match, and why it failed. The job
``party_connections_job`` runs the checks on demand and the schedule
``party_connections_schedule`` every five minutes, so the asset page shows a connection history.
"""


from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import dagster as dg

from pipelines.defs.remote.resource import RemoteParties

CHECK = "connection"
GROUP = "federation"


def party_key(party: str) -> dg.AssetKey:
    """The external asset standing for ``party``'s server."""
    return dg.AssetKey(["remote_party", party])


def connection_result(party: str, probe) -> dg.AssetCheckResult:
    """The ``connection`` check of ``party`` from its probe."""
    matches = probe.fingerprint_matches
    passed = probe.reachable and bool(matches)
    if not probe.reachable:
        text = f"party {party!r} at {probe.endpoint}: {probe.state}: {probe.error}"
    elif not matches:
        text = (f"party {party!r} at {probe.endpoint} answers, but its contract fingerprint "
                f"{probe.status.contract_fingerprint} is not the coordinator's")
    else:
        text = (f"party {party!r} at {probe.endpoint}: reachable, same contract, round trip "
                f"{probe.latency_ms:.1f} ms")
    metadata = {"party": party, "state": probe.state, "address": probe.endpoint,
                "contract_fingerprint_match": "unknown" if matches is None else str(matches)}
    if probe.reachable:
        metadata |= {"connect_ms": float(probe.connect_ms), "latency_ms": float(probe.latency_ms),
                     "party_contract_fingerprint": probe.status.contract_fingerprint,
                     "rows_validated": int(probe.status.report.get(
                         "rows_validated", probe.status.report["rows"]))}
    else:
        metadata["error"] = probe.error or ""
    return dg.AssetCheckResult(asset_key=party_key(party), check_name=CHECK, passed=passed,
                               severity=dg.AssetCheckSeverity.ERROR, description=text,
                               metadata=metadata)


def connection_defs(parties: Sequence[str], endpoints: dict[str, str]) -> dg.Definitions:
    """The parties' external assets, their ``connection`` checks, a job and a schedule."""
    specs = [dg.AssetSpec(party_key(p), group_name=GROUP, kinds={"grpc"},
                          owners=["team:data-engineering"],
                          metadata={"endpoint": endpoints[p]},
                          description=f"Party {p!r}: its server at {endpoints[p]} (mutual TLS), "
                          "which holds the party's rows and critic on its own host.")
             for p in parties]
    checks = [dg.AssetCheckSpec(CHECK, asset=party_key(p),
                                description="Contacts the party over mutual TLS: reachable, "
                                "answering as this party, same contract fingerprint; records "
                                "address, latency and the reason of a failure.")
              for p in parties]

    @dg.multi_asset_check(specs=checks, can_subset=True, name="party_connections")
    def party_connections(context: dg.AssetCheckExecutionContext,
                          remote_parties: RemoteParties) -> Iterator[dg.AssetCheckResult]:
        selected = [p for p in parties if dg.AssetCheckKey(party_key(p), CHECK)
                    in context.selected_asset_check_keys]
        with ThreadPoolExecutor(max_workers=max(1, len(selected))) as pool:
            probes = list(pool.map(lambda p: remote_parties.probe(p, quick=True), selected))
        for party, probe in zip(selected, probes, strict=True):
            result = connection_result(party, probe)
            (context.log.info if result.passed else context.log.warning)(
                result.description or "")
            yield result

    job = dg.define_asset_job(
        "party_connections_job", selection=dg.AssetSelection.checks(party_connections),
        description="Contact every remote party (mutual TLS) and record its connection state.")
    schedule = dg.ScheduleDefinition(
        name="party_connections_schedule", job=job, cron_schedule="*/5 * * * *",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Every five minutes: each remote party's connection check.")
    return dg.Definitions(assets=specs, asset_checks=[party_connections], jobs=[job],
                          schedules=[schedule])
