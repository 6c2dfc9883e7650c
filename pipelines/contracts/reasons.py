"""How a broken rule is worded: the reason of a quarantined row, the message of a schema failure."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from pipelines.contracts.rules import columns_of


def _bound(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    value = value.item() if hasattr(value, "item") else value
    return _bound(value)  # 39.0 -> 39: a number column with gaps is float in pandas


def short(value: Any, limit: int = 80) -> str:
    """A cell value as a quarantine row or message quotes it (``'<missing>'`` for a gap)."""
    value = _plain(value)
    if not isinstance(value, tuple) and pd.isna(value):
        return "<missing>"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_infinite(value: Any) -> bool:
    """Whether a cell is an infinite number, or a number beyond float64 (``1e999``)."""
    try:
        number = float(str(value).strip())
    except ValueError:
        return False
    return bool(np.isinf(number))


def not_a_number_reason(value: Any, column: str) -> str:
    """Why a cell of a numeric column that holds text or an infinite number is quarantined."""
    if _is_infinite(value):
        return f"non-finite value {short(value)} in numeric column {column}"
    return f"non-numeric value {short(value)} in numeric column {column}"


def row_reason(kind: str, kwargs: Mapping[str, Any], column: str, value: Any) -> str:
    """Why a row broke a row-level rule, e.g. ``age=-5 is outside [17, 90]``."""
    if kind == "expect_column_values_to_not_be_null":
        return f"{column} is missing"
    if kind == "expect_column_values_to_be_in_set":
        allowed = list(kwargs.get("value_set") or [])
        shown = ", ".join(map(repr, allowed[:8])) + (", ..." if len(allowed) > 8 else "")
        return f"{column}={short(value)} is not an allowed value ({shown})"
    if kind == "expect_column_values_to_be_between":
        low, high = _bound(kwargs.get("min_value")), _bound(kwargs.get("max_value"))
        bounds = f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]"
        return f"{column}={short(value)} is outside {bounds}"
    if kind == "expect_column_pair_values_to_be_in_set":
        return f"({column})={short(value)} is not an allowed combination"
    if kind == "expect_column_values_to_be_in_type_list":
        return f"{column}={short(value)} has type {type(value).__name__}"
    return f"{column}={short(value)} breaks {kind}"


def _type_message(result: Mapping[str, Any], kwargs: Mapping[str, Any]) -> str:
    observed = result.get("observed_value")
    if observed is None:
        unexpected = dict.fromkeys(map(short, result.get("partial_unexpected_list") or []))
        sample = ", ".join(list(unexpected)[:3])
        observed = f"values such as {sample}"
    expected = "a number" if "int64" in kwargs.get("type_list", []) else "text"
    return f"column should hold {expected}, found {observed}"


def schema_messages(
    kind: str, result: Mapping[str, Any], kwargs: Mapping[str, Any]
) -> Iterator[tuple[str | None, str]]:
    """``(column or None, message)`` of each problem a failed schema-level rule reports."""
    if kind == "expect_table_columns_to_match_set":
        mismatched = (result.get("details") or {}).get("mismatched") or {}
        for name in mismatched.get("missing") or []:
            yield name, "required column is missing"
        for name in mismatched.get("unexpected") or []:
            yield name, "column is not part of the contract"
    elif kind == "expect_column_to_exist":
        yield kwargs.get("column"), "required column is missing"
    elif kind == "expect_column_values_to_be_in_type_list":
        yield kwargs.get("column"), _type_message(result, kwargs)
    elif kind == "expect_table_row_count_to_be_between":
        yield None, f"row count {result.get('observed_value')} is outside the allowed range"
    else:
        for name in columns_of(kwargs) or [None]:
            yield name, f"breaks {kind}: {result.get('observed_value')}"


def exception_message(info: Mapping[str, Any]) -> str | None:
    """GX's message when it raised while evaluating a rule; None when it did not raise."""
    raised = info.get("raised_exception") or any(
        isinstance(v, dict) and v.get("raised_exception") for v in info.values()
    )
    if not raised:
        return None
    message = str(info.get("exception_message") or "")
    if not message:
        message = next(
            (str(v.get("exception_message")) for v in info.values() if isinstance(v, dict)), ""
        )
    return message
