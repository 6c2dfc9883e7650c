"""Ways of running the contract that only the tests need: a whole frame, a given chunking, and
the check result of a raw table validated on its own."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

import dagster as dg
import pandas as pd

from pipelines import contracts
from pipelines.chunked_tables import ChunkedTable
from pipelines.defs.ingest.contract_check import contract_check_result
from pipelines.defs.ingest.row_sources import SHOWN_FAILURES, as_chunked
from pipelines.defs.ingest.split import scan_table_numbers


def load_suite(path: str | os.PathLike[str]):
    """Parse a committed suite file into a GX ``ExpectationSuite`` (not attached to a context)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    suite = contracts.read_suite_json(path)
    return gx.ExpectationSuite(
        name=suite["name"],
        expectations=suite["expectations"],
        meta=suite.get("meta"),
        notes=suite.get("notes"),
    )


def validate_frame(
    df: pd.DataFrame, suite_path: str | os.PathLike[str] | None = None
) -> contracts.ContractResult:
    """Validate ``df`` as one chunk; every row failure is returned, ``typed`` is what GX saw."""
    stream = contracts.ContractStream(suite_path)
    outcome = stream.validate(df)
    return stream.finish(typed=outcome.typed)


def validate_chunks(
    chunks: Iterable[pd.DataFrame],
    suite_path: str | os.PathLike[str] | None = None,
    *,
    numbers: contracts.NumericScan,
    keep_failures: int | None = None,
    on_chunk: Callable[[contracts.ChunkOutcome], None] | None = None,
) -> contracts.ContractResult:
    """Validate a table given chunk by chunk; ``on_chunk`` sees each chunk's outcome in turn."""
    stream = contracts.ContractStream(suite_path, numbers=numbers, keep_failures=keep_failures)
    for chunk in chunks:
        outcome = stream.validate(chunk)
        if on_chunk is not None:
            on_chunk(outcome)
    return stream.finish()


def validate_table(
    raw: pd.DataFrame | ChunkedTable,
    suite_path: str | os.PathLike[str] | None = None,
    keep_failures: int | None = SHOWN_FAILURES,
) -> contracts.ContractResult:
    """Validate a raw table chunk by chunk, after the first pass over its numbers."""
    table = as_chunked(raw)
    return validate_chunks(
        table.chunks(),
        suite_path,
        numbers=scan_table_numbers(table, suite_path),
        keep_failures=keep_failures,
    )


def check_raw_table(
    party: str,
    raw: pd.DataFrame | ChunkedTable,
    suite_path: str | os.PathLike[str] | None = None,
) -> dg.AssetCheckResult:
    """The contract check result of a raw table validated on its own (nothing is stored)."""
    return contract_check_result(party, raw, validate_table(raw, suite_path))
