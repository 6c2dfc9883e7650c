"""Discover parties in the landing area and keep their ingest up to date.

The sensor's cursor maps each party to a fingerprint of its landing files (names, sizes,
modification times and file types, from ``lstat``: a file replaced by a link or a FIFO counts as
a change, and the run it triggers refuses it). A party folder that appears becomes a new
partition and gets a run; a party whose files change gets a new run. A party whose latest
``raw_party_table`` materialization already read the same files (its ``landing_digest``, e.g.
from ``dagan demo`` on the same Dagster home) gets no run: starting the UI after the demo
re-ingests nothing. Producers should drop files
atomically (write under a hidden name such as ``.part.csv``, then rename): hidden files are
ignored.
"""


import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import dagster as dg

from pipelines.partitions import party_partitions
from pipelines.resources import LandingArea

CURSOR_VERSION = 1
#: Metadata entry of ``raw_party_table``: digest of the landing files the run read.
LANDING_DIGEST = "landing_digest"

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.groups("ingest", "summaries"),
    description=(
        "Ingest, validate and summarise one party (one partition per run; partitioned by "
        "party_partitions, inferred from the selected assets)."
    ),
)


def fingerprint_digest(fingerprint: Mapping[str, list[int]]) -> str:
    """A short stable digest of a party's ``{file: [size, mtime_ns, file type]}`` fingerprint."""
    text = json.dumps(fingerprint, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def read_cursor(cursor: str | None) -> dict[str, str]:
    """Party -> digest of its files at the last run request (empty for a missing/old cursor)."""
    if not cursor:
        return {}
    try:
        payload = json.loads(cursor)
    except json.JSONDecodeError:
        return {}
    if not isinstance(payload, dict) or payload.get("version") != CURSOR_VERSION:
        return {}
    parties = payload.get("parties")
    return {str(k): str(v) for k, v in parties.items()} if isinstance(parties, dict) else {}


def write_cursor(digests: Mapping[str, str]) -> str:
    return json.dumps({"version": CURSOR_VERSION, "parties": dict(sorted(digests.items()))})


@dataclass(frozen=True)
class PartyPlan:
    """What one sensor tick should do."""

    new_partitions: list[str]
    to_run: dict[str, str]  # party -> digest of the files the run will read
    cursor: str


def plan_party_runs(
    digests: Mapping[str, str],
    cursor: str | None,
    known_partitions: Iterable[str],
    ingested: Mapping[str, str] | None = None,
) -> PartyPlan:
    """Compare the landing area (party -> files digest) with the cursor and known partitions.

    ``ingested`` maps a party to the digest of the files its latest ingest read (the
    ``landing_digest`` of its raw table); a party whose files have not changed since is not run.
    """
    seen = read_cursor(cursor)
    done = ingested or {}
    known = set(known_partitions)
    new_partitions = sorted(p for p in digests if p not in known)
    to_run = {
        p: d for p, d in sorted(digests.items())
        if (seen.get(p) != d or p in new_partitions) and done.get(p) != d
    }
    return PartyPlan(new_partitions, to_run, write_cursor(digests))


def ingested_digests(instance: dg.DagsterInstance, parties: Iterable[str]) -> dict[str, str]:
    """Party -> ``landing_digest`` of its latest ``raw_party_table`` materialization (parties
    without one, or materialized before the digest was recorded, are left out)."""
    out = {}
    for party in parties:
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("raw_party_table"),
                                  asset_partitions=[party]),
            limit=1,
        ).records
        materialization = records[0].asset_materialization if records else None
        entry = materialization.metadata.get(LANDING_DIGEST) if materialization else None
        if entry is not None:
            out[party] = str(entry.value)
    return out


@dg.sensor(
    job=ingest_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Adds a partition for every new party folder in the landing area and requests an "
        "ingest run for new parties and for parties whose files changed."
    ),
)
def party_sensor(context: dg.SensorEvaluationContext, landing: LandingArea) -> dg.SensorResult:
    digests = {}
    for party in landing.parties():
        files = landing.fingerprint(party)
        if files:  # an empty folder is not a party yet
            digests[party] = fingerprint_digest(files)
    known = context.instance.get_dynamic_partitions(party_partitions.name)
    seen = read_cursor(context.cursor)
    changed = [p for p, d in digests.items() if seen.get(p) != d and p in known]
    plan = plan_party_runs(digests, context.cursor, known,
                           ingested_digests(context.instance, changed))
    if plan.new_partitions:
        context.log.info(f"new parties: {', '.join(plan.new_partitions)}")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(run_key=f"{party}:{digest}", partition_key=party)
            for party, digest in plan.to_run.items()
        ],
        dynamic_partitions_requests=(
            [party_partitions.build_add_request(plan.new_partitions)]
            if plan.new_partitions
            else []
        ),
        cursor=plan.cursor,
    )
