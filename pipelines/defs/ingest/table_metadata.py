"""Materialization metadata of the ingest tables."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from pipelines.contracts import shared_table_schema
from pipelines.metadata import md_table
from pipelines.resources.landing import FileRows


def type_name(dtype: Any) -> str:
    """The type a column is shown with: text is ``string`` whether pandas holds it as ``object``
    or ``string`` (raw and validated tables store text alike, as Arrow strings)."""
    name = str(dtype)
    return "string" if name in ("object", "str") or name.startswith("string") else name


def table_schema(df: pd.DataFrame | Mapping[str, Any]) -> dg.TableSchema:
    """A frame's (or ``{column: dtype}``'s) columns and dtypes, described as the contract does."""
    dtypes = df.dtypes.to_dict() if isinstance(df, pd.DataFrame) else df
    return shared_table_schema({str(name): type_name(dtype) for name, dtype in dtypes.items()})


def raw_table_metadata(
    party: str,
    rows: int,
    dtypes: Mapping[str, Any],
    files: list[FileRows],
    landing_dir: Path,
    stored: Path,
) -> dict[str, Any]:
    """Materialization metadata of a party's raw table."""
    return {
        "party": party,
        "dagster/row_count": rows,
        "dagster/column_schema": table_schema(dtypes),
        "columns": len(dtypes),
        "files": len(files),
        "rows_per_file": md_table(pd.DataFrame(files, columns=["file", "rows"])),
        "landing_dir": dg.MetadataValue.path(str(landing_dir)),
        "stored_at": dg.MetadataValue.path(str(stored)),
    }
