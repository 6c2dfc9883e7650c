"""Ingest, validate and summarise one party in a process of its own, to measure its memory.

    python -m tests.reliability.ingest_child <work folder> <party>

``<work folder>/landing/<party>/`` holds the party's files; the party store, the IO manager's
folder and nothing else are written under ``<work folder>``. The last line printed is a JSON
object: the row counts of ``validated_party_table``, whether the run and the check passed, the
profile's row count, the wall time and the process's peak RSS in MiB
(:func:`bench.memory.peak_rss_bytes`, in MiB).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def main(argv: list[str]) -> int:
    import dagster as dg

    from bench.memory import MIB, peak_rss_bytes
    from pipelines.defs.ingest import raw_party_table, validated_party_table
    from pipelines.defs.summaries import party_summary
    from pipelines.resources import LandingArea, PartyStore

    work, party = Path(argv[0]), argv[1]
    resources = {
        "landing": LandingArea(root=str(work / "landing")),
        "party_store": PartyStore(root=str(work / "parties")),
        "io_manager": dg.FilesystemIOManager(base_dir=str(work / "io")),
    }
    started = time.perf_counter()
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("parties", [party])
        result = dg.materialize(
            [raw_party_table, validated_party_table, party_summary],
            partition_key=party,
            instance=instance,
            resources=resources,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
        )
        wall = time.perf_counter() - started
        out: dict[str, object] = {"success": result.success, "wall_s": round(wall, 2)}
        checks = result.get_asset_check_evaluations()
        out["check_passed"] = bool(checks and checks[0].passed)
        events = result.asset_materializations_for_node("validated_party_table")
        if events:
            meta = events[0].metadata
            for key in ("rows_read", "rows_validated", "rows_quarantined"):
                out[key] = meta[key].value
        if result.success:
            out["profile_rows"] = result.output_for_node("party_summary")["summary"]["n_rows"]
    out["peak_rss_mb"] = round(peak_rss_bytes() / MIB, 1)
    sys.stdout.write(json.dumps(out) + "\n")
    return 0 if result.success else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
