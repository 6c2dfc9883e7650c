"""The verdict of the party table contract, reported as the blocking check of the validated table.

The contract runs once per party, in ``validated_party_table``, which splits the raw table; the
check result is built from that same run.
"""

from __future__ import annotations

import dagster as dg
import pandas as pd

from pipelines.chunked_tables import ChunkedTable
from pipelines.contracts import ContractResult
from pipelines.defs.ingest.row_sources import describe_row_failures, files_phrase
from pipelines.metadata import json_value, md_table
from pipelines.plots import party_rows

CHECK_NAME = "party_table_contract"
CHECK_DESCRIPTION = (
    "Runs the Great Expectations suite data_contracts/suites/party_table.json (or the file "
    "DAGAN_PARTY_CONTRACT names) while the table is split. A schema-level failure (missing/extra "
    "column, wrong column type, no rows) fails the check and this party's validated table, and "
    "stops its downstream assets; row-level failures only warn (those rows are quarantined)."
)


def _failures_table(failures: list[tuple[str | None, str]]) -> dg.MetadataValue:
    frame = pd.DataFrame(
        [(c if c is not None else "(table)", m) for c, m in failures], columns=["column", "problem"]
    )
    return md_table(frame)


#: How many columns and schema problems a check description spells out (10 000 extra columns
#: would otherwise make a description of several hundred kilobytes).
SHOWN_PROBLEMS = 20


def _capped(items: list[str], separator: str) -> str:
    more = len(items) - SHOWN_PROBLEMS
    return separator.join(items[:SHOWN_PROBLEMS]) + (f" (and {more} more)" if more > 0 else "")


def contract_check_result(
    party: str, raw: pd.DataFrame | ChunkedTable, result: ContractResult
) -> dg.AssetCheckResult:
    """The check result of the contract's verdict ``result`` on a party's raw table ``raw``.

    Schema-level failures fail the check (severity ERROR, which blocks the party's downstream
    assets). Row-level failures alone pass it with severity WARN: those rows are quarantined.
    """
    # Counts as text: Dagster draws a numeric entry of a partitioned check as one series across
    # the partitions' runs, as if one table lost or gained rows; the bar chart shows this party.
    common = {
        "party": party,
        "contract": result.suite_name,
        "rows": dg.MetadataValue.text(str(result.rows)),
        "rows_failing_row_rules": dg.MetadataValue.text(str(result.failed_row_count)),
        "rows_plot": party_rows(party, {"rows read": result.rows,
                                        "rows breaking row rules": result.failed_row_count}),
        "gx_statistics": json_value(result.statistics),
    }
    if not result.schema_ok:
        columns = sorted({c for c, _ in result.schema_failures if c is not None})
        named = _capped(list(map(repr, columns)), ", ")
        problems = _capped(
            [f"column {c!r}: {m}" if c is not None else m for c, m in result.schema_failures],
            "; ",
        )
        return dg.AssetCheckResult(
            check_name=CHECK_NAME,
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            description=(
                f"party {party!r}{files_phrase(raw)}: table breaks contract "
                f"{result.suite_name!r} (columns {named or '-'}): {problems}"
            ),
            metadata={
                **common,
                "failing_columns": json_value(columns),
                "schema_failures": _failures_table(result.schema_failures),
            },
        )
    failing = result.failed_row_count
    if failing:
        description = (
            f"party {party!r}{files_phrase(raw)}: schema OK; {failing} of {result.rows} rows "
            f"break row-level rules and will be quarantined: "
            f"{describe_row_failures(raw, result.row_failures, total=result.failure_count)}"
        )
    else:
        description = f"party {party!r}: all {result.rows} rows meet contract {result.suite_name!r}"
    return dg.AssetCheckResult(
        check_name=CHECK_NAME,
        passed=True,
        severity=dg.AssetCheckSeverity.WARN if failing else dg.AssetCheckSeverity.ERROR,
        description=description,
        metadata={**common, "row_rule_failures": json_value(result.failure_counts())},
    )
