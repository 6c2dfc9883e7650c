"""Load test of the ingest side: many parties through ingest, validation and party summaries.

Writes Adult-like party tables (rows of ../shared/datasets/adult.csv drawn with replacement, with a
seed; a small share of rows made invalid so that quarantine is exercised) into a temporary landing
area, then materializes raw_party_table, validated_party_table (with its party_table_contract
check) and party_summary for every party, one run per partition, on a temporary on-disk Dagster
instance.

Reports wall time, rows per second, exact row accounting, and memory: the process's peak RSS
(``VmHWM``) and current RSS after 1, 10, 25, 50, ... parties. Parties are processed one at a time
and every asset streams its table in chunks of ``DAGAN_INGEST_CHUNK_ROWS`` rows (``--chunk-rows``),
so memory should stay at what one chunk needs however many parties (and total rows) have gone
through, and however large one party's file is.

``--big-file-mb`` then sends one party holding a single CSV file of about that size through the
same assets, and reports how much its validated table would take in memory if it were held
whole (estimated from its first row group).

    python scripts/load_test.py --parties 50 --rows 20000
    python scripts/load_test.py --parties 1 --rows 1000 --big-file-mb 100
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
# measure the code of this checkout, not whichever one the environment has installed
sys.path.insert(0, str(REPO))
ADULT = REPO.parent / "shared" / "datasets" / "adult.csv"
REPORT_AFTER = (1, 10, 25, 50, 100, 200)
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}

from bench.memory import MIB, current_rss_bytes, peak_rss_bytes  # noqa: E402


def peak_rss_mb() -> float:
    """This process's peak resident memory, in MiB."""
    return peak_rss_bytes() / MIB


def current_rss_mb() -> float:
    """This process's resident memory now, in MiB."""
    return current_rss_bytes() / MIB


def table_mb(path: Path) -> float:
    """What a stored table would take as a pandas frame, from its first row group."""
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    first = parquet.read_row_group(0).to_pandas()
    return first.memory_usage(deep=True).sum() / len(first) * parquet.metadata.num_rows / 2**20


def party_rows(source: pd.DataFrame, n: int, seed: int, bad_share: float) -> pd.DataFrame:
    """``n`` rows drawn from ``source`` with replacement; ``bad_share`` of them get age -1."""
    rng = np.random.default_rng(seed)
    rows = source.iloc[rng.integers(0, len(source), n)].reset_index(drop=True)
    bad = rng.random(n) < bad_share
    rows.loc[bad, "age"] = -1
    return rows


def write_big_file(
    source: pd.DataFrame, path: Path, megabytes: float, seed: int, bad_share: float
) -> tuple[int, int]:
    """Append resampled rows to one CSV until it reaches ``megabytes`` (``bad_share`` of them with
    age -1); returns the row count and the number of invalid rows."""
    rng = np.random.default_rng(seed)
    target = megabytes * 1e6
    rows = bad = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(source.columns) + "\n")
        while handle.tell() < target:
            block = party_rows(source, 10_000, int(rng.integers(2**31)), bad_share)
            block.to_csv(handle, index=False, header=False)
            rows += len(block)
            bad += int((block["age"] == -1).sum())
    return rows, bad


def run(args: argparse.Namespace) -> int:
    import dagster as dg

    from pipelines.defs.ingest import raw_party_table, validated_party_table
    from pipelines.defs.summaries import party_summary
    from pipelines.resources import LandingArea, PartyStore

    if args.chunk_rows:
        os.environ["DAGAN_INGEST_CHUNK_ROWS"] = str(args.chunk_rows)
    from pipelines import settings

    assets = [raw_party_table, validated_party_table, party_summary]
    source = pd.read_csv(ADULT)
    work = Path(tempfile.mkdtemp(prefix="dagan-load-", dir=args.tmp))
    landing, store_root = work / "landing", work / "parties"
    resources = {
        "landing": LandingArea(root=str(landing)),
        "party_store": PartyStore(root=str(store_root)),
        "io_manager": dg.FilesystemIOManager(base_dir=str(work / "io")),
    }
    (work / "dagster").mkdir()
    instance = dg.DagsterInstance.local_temp(tempdir=str(work / "dagster"))
    sys.stdout.write(
        f"work folder {work}; chunks of {settings.ingest_chunk_rows()} rows; baseline RSS "
        f"{current_rss_mb():.0f} MB\n"
    )

    def ingest(party: str) -> dict:
        instance.add_dynamic_partitions("parties", [party])
        result = dg.materialize(assets, partition_key=party, instance=instance,
                                resources=resources, run_config=QUIET)
        meta = result.asset_materializations_for_node("validated_party_table")[0].metadata
        counts = {k: meta[k].value for k in ("rows_read", "rows_validated", "rows_quarantined")}
        if counts["rows_read"] != counts["rows_validated"] + counts["rows_quarantined"]:
            raise RuntimeError(f"party {party}: rows lost or duplicated: {counts}")
        return counts

    totals = {"rows_read": 0, "rows_validated": 0, "rows_quarantined": 0}
    party_mb = 0.0
    started = time.perf_counter()
    if args.parties:
        sys.stdout.write(
            "| parties | rows read | validated | quarantined | wall s | rows/s | "
            "peak RSS MB | current RSS MB |\n|---|---|---|---|---|---|---|---|\n"
        )
    for k in range(args.parties):
        party = f"party_{k:03d}"
        rows = party_rows(source, args.rows, args.seed + k, args.bad_share)
        (landing / party).mkdir(parents=True)
        rows.to_csv(landing / party / f"{party}.csv", index=False)
        del rows
        for key, value in ingest(party).items():
            totals[key] += value
        if k == 0:
            party_mb = table_mb(resources["party_store"].table_path(party, "validated"))
        done = k + 1
        if done in REPORT_AFTER or done == args.parties:
            wall = time.perf_counter() - started
            sys.stdout.write(
                f"| {done} | {totals['rows_read']} | {totals['rows_validated']} | "
                f"{totals['rows_quarantined']} | {wall:.1f} | {totals['rows_read'] / wall:.0f} | "
                f"{peak_rss_mb():.0f} | {current_rss_mb():.0f} |\n"
            )
            sys.stdout.flush()
    if args.parties:
        wall = time.perf_counter() - started
        sys.stdout.write(
            f"\n{args.parties} parties x {args.rows} rows: {wall:.1f} s "
            f"({wall / args.parties:.2f} s per party); one party's validated table would hold "
            f"{party_mb:.1f} MB in memory; peak RSS {peak_rss_mb():.0f} MB\n"
        )

    if args.big_file_mb:
        path = landing / "big" / "big.csv"
        n, n_bad = write_big_file(source, path, args.big_file_mb, args.seed, args.bad_share)
        size = path.stat().st_size / 1e6
        before = peak_rss_mb()
        started = time.perf_counter()
        counts = ingest("big")
        wall = time.perf_counter() - started
        if (counts["rows_read"], counts["rows_quarantined"]) != (n, n_bad):
            raise RuntimeError(f"big file: wrote {n} rows ({n_bad} invalid), ingest says {counts}")
        after = peak_rss_mb()
        big_mb = table_mb(resources["party_store"].table_path("big", "validated"))
        sys.stdout.write(
            f"\none {size:.0f} MB CSV ({n} rows, {n_bad} invalid): {wall:.1f} s, rows read "
            f"{counts['rows_read']} = "
            f"validated {counts['rows_validated']} + quarantined {counts['rows_quarantined']}; "
            f"the validated table would hold {big_mb:.0f} MB in memory; peak RSS {before:.0f} -> "
            f"{after:.0f} MB; current RSS {current_rss_mb():.0f} MB\n"
        )
    instance.dispose()
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--parties", type=int, default=50)
    p.add_argument("--rows", type=int, default=20000, help="rows per party")
    p.add_argument("--bad-share", type=float, default=0.001,
                   help="share of rows made invalid (age -1), to exercise quarantine")
    p.add_argument("--big-file-mb", type=float, default=0.0,
                   help="also ingest one party with a single CSV file of about this size")
    p.add_argument("--chunk-rows", type=int, default=0,
                   help="rows per ingest chunk (sets DAGAN_INGEST_CHUNK_ROWS)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tmp", default=None, help="where the temporary work folder goes")
    p.add_argument("--keep", action="store_true", help="keep the temporary work folder")
    args = p.parse_args(argv)
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
