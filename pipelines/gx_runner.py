"""Run a committed Great Expectations suite (the data contract) against a party's table.

This is the only module that imports ``great_expectations``, and it does so inside functions: the
import takes seconds and Dagster must be able to load the definitions without paying for it.

How a contract is applied (:func:`validate_frame`):

1. The table is prepared for GX without changing any value: columns the contract types as
   numbers (``meta.column_types``) are read with ``pandas.to_numeric(errors="coerce")``. A cell
   holding text such as ``'abc'`` becomes missing in the frame GX sees, so the column's
   ``expect_column_values_to_not_be_null`` rule reports that row; its quarantine reason then
   quotes the original text: ``non-numeric value 'abc'``. Infinite numbers (``inf``, ``-inf``)
   are treated the same way (``non-finite value inf``): no model can learn from them. A column in
   which *no* value is a number is left as text, so that its schema-level type rule fails instead
   of every row being quarantined. Because of step 1 the contract must have a not-null rule for
   each numeric column (:func:`load_suite` checks this).
2. GX validates the frame with ``result_format=COMPLETE``; every row-level rule returns the index
   of each row it rejects (``unexpected_index_list``), and those indexes are the only source of
   row failures.
3. Expectations are split by ``meta.level``: ``schema`` failures (missing or extra columns, wrong
   column types, no rows) make the whole table unusable; ``row`` failures send single rows to
   quarantine with the rule, column, value and a readable reason.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pipelines import settings

if TYPE_CHECKING:  # pragma: no cover
    from great_expectations.core import ExpectationSuite

logger = logging.getLogger(__name__)

SCHEMA = "schema"
ROW = "row"
LEVELS = (SCHEMA, ROW)
QUARANTINE_COLUMNS = ("_rule", "_column", "_value", "_reason")
ROW_FAILURE_COLUMNS = ("_row", *QUARANTINE_COLUMNS)
NUMERIC_TYPES = {"int64": "int64", "float64": "float64"}
TEXT_TYPES = {"string"}


def party_table_suite_path() -> Path:
    """The contract every party table must meet (``DAGAN_PARTY_CONTRACT`` overrides it)."""
    default = settings.REPO_ROOT / "data_contracts" / "suites" / "party_table.json"
    return Path(os.environ.get("DAGAN_PARTY_CONTRACT", default))


def read_suite_json(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The suite file as plain JSON (no GX import), with its structure checked."""
    path = Path(path)
    try:
        suite = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"contract {path}: cannot read it as JSON: {exc}") from exc
    if not isinstance(suite, dict) or not suite.get("name"):
        raise ValueError(f"contract {path}: top level must be an object with a 'name'")
    expectations = suite.get("expectations")
    if not isinstance(expectations, list) or not expectations:
        raise ValueError(f"contract {path}: 'expectations' must be a non-empty list")
    for i, exp in enumerate(expectations):
        level = (exp.get("meta") or {}).get("level")
        if level not in LEVELS:
            raise ValueError(
                f"contract {path}: expectation #{i} ({exp.get('type')}) needs meta.level "
                f"in {LEVELS}, got {level!r}"
            )
    meta = suite.get("meta") or {}
    types = meta.get("column_types")
    if not isinstance(types, dict) or not types:
        raise ValueError(f"contract {path}: meta.column_types must map each column to a type")
    unknown = {c: t for c, t in types.items() if t not in NUMERIC_TYPES and t not in TEXT_TYPES}
    if unknown:
        raise ValueError(f"contract {path}: unsupported column types {unknown}")
    not_null = {
        exp["kwargs"].get("column")
        for exp in expectations
        if exp.get("type") == "expect_column_values_to_not_be_null"
    }
    nullable_numbers = sorted(
        c for c, t in types.items() if t in NUMERIC_TYPES and c not in not_null
    )
    if nullable_numbers:
        raise ValueError(
            f"contract {path}: numeric columns {nullable_numbers} need an "
            "expect_column_values_to_not_be_null rule (non-numeric text is reported through it)"
        )
    return suite


@dataclass(frozen=True)
class ContractSpec:
    """What the pipeline needs to know about a contract besides its rules."""

    name: str
    path: Path
    column_types: dict[str, str]
    label: str | None
    discrete_columns: tuple[str, ...]
    meta: dict[str, Any]

    @property
    def columns(self) -> list[str]:
        return list(self.column_types)

    @property
    def numeric_columns(self) -> list[str]:
        return [c for c, t in self.column_types.items() if t in NUMERIC_TYPES]


@lru_cache(maxsize=16)
def _contract_spec(path: Path, mtime_ns: int) -> ContractSpec:
    suite = read_suite_json(path)
    meta = dict(suite.get("meta") or {})
    return ContractSpec(
        name=suite["name"],
        path=path,
        column_types=dict(meta["column_types"]),
        label=meta.get("label"),
        discrete_columns=tuple(meta.get("discrete_columns") or ()),
        meta=meta,
    )


def contract_spec(path: str | os.PathLike[str] | None = None) -> ContractSpec:
    """Label, discrete columns and column types from a suite's ``meta`` block (no GX import)."""
    path = Path(path) if path is not None else party_table_suite_path()
    return _contract_spec(path, path.stat().st_mtime_ns)


def load_suite(path: str | os.PathLike[str]) -> ExpectationSuite:
    """Parse a committed suite file into a GX ``ExpectationSuite`` (not attached to a context)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    suite = read_suite_json(path)
    return gx.ExpectationSuite(
        name=suite["name"],
        expectations=suite["expectations"],
        meta=suite.get("meta"),
        notes=suite.get("notes"),
    )


@dataclass
class ContractResult:
    """The outcome of validating one table against a contract.

    ``row_failures`` has one row per (failing row, broken rule) with columns ``_row`` (position in
    the validated table), ``_rule``, ``_column``, ``_value`` and ``_reason``.
    """

    suite_name: str
    rows: int
    success: bool
    schema_failures: list[tuple[str | None, str]]
    row_failures: pd.DataFrame
    statistics: dict[str, Any]
    rules: list[dict[str, Any]]
    typed: pd.DataFrame = field(repr=False)

    @property
    def schema_ok(self) -> bool:
        return not self.schema_failures

    @property
    def failed_rows(self) -> list[int]:
        return sorted(set(self.row_failures["_row"].tolist()))

    def failure_counts(self) -> dict[str, int]:
        """How many rows each (rule, column) rejected, e.g. ``{"age: between": 3}``."""
        counts: dict[str, int] = {}
        for rule in self.rules:
            if rule["level"] == ROW and rule["unexpected_count"]:
                counts[f"{rule['column']}: {rule['type']}"] = rule["unexpected_count"]
        return counts

    def quarantine_frame(self, raw: pd.DataFrame) -> pd.DataFrame:
        """Rows of ``raw`` (as received) that broke a row-level rule, with the reasons joined."""
        raw = raw.reset_index(drop=True)
        if self.row_failures.empty:
            empty = raw.iloc[0:0].copy()
            for name in QUARANTINE_COLUMNS:
                empty[name] = pd.Series(dtype=object)
            return empty
        grouped = self.row_failures.groupby("_row", sort=True)[list(QUARANTINE_COLUMNS)].agg(
            "; ".join
        )
        out = raw.iloc[grouped.index.to_numpy()].copy()
        for name in QUARANTINE_COLUMNS:
            out[name] = grouped[name].to_numpy()
        return out.reset_index(drop=True)

    def validated_frame(self, column_types: Mapping[str, str]) -> pd.DataFrame:
        """Rows that broke no rule, typed as the contract says (integers only where lossless)."""
        keep = self.typed.drop(index=self.failed_rows)
        out = pd.DataFrame(index=keep.index)
        for name, kind in column_types.items():
            column = keep[name]
            if kind in NUMERIC_TYPES:
                column = pd.to_numeric(column)
                if kind == "int64":
                    if column.empty or (column % 1 == 0).all():
                        column = column.astype("int64")
                    else:
                        logger.warning(
                            "column %s holds fractional numbers; kept as float64, not int64", name
                        )
            else:
                column = column.astype(object)
            out[name] = column
        return out.reset_index(drop=True)


def _prepare(raw: pd.DataFrame, spec: ContractSpec) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """The frame GX sees, plus, per numeric column, the raw text of cells that are not numbers."""
    frame = raw.reset_index(drop=True).copy()
    not_numbers: dict[str, pd.Series] = {}
    for name, kind in spec.column_types.items():
        if name not in frame.columns:
            continue
        column = frame[name]
        if kind in NUMERIC_TYPES:
            if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
                numbers, bad = column, pd.Series(False, index=column.index)
            else:
                numbers = pd.to_numeric(column, errors="coerce")
                bad = column.notna() & numbers.isna()
                if bad.all() or not numbers.notna().any():
                    frame[name] = column.astype(object)  # wholly non-numeric: a schema problem
                    continue
            # inf and -inf are numbers to pandas but no value the model can learn: they are
            # reported like text, through the not-null rule, and quarantined
            values = numbers.to_numpy(dtype=float, na_value=np.nan)
            infinite = pd.Series(np.isinf(values), index=column.index)
            if infinite.any():
                numbers = numbers.where(~infinite)
                bad = bad | infinite
            if bad.any():
                frame[name] = numbers
                not_numbers[name] = column[bad]
            elif numbers is not column:
                frame[name] = numbers
        elif isinstance(column.dtype, pd.StringDtype | pd.CategoricalDtype):
            frame[name] = column.astype(object).where(column.notna(), None)
    return frame, not_numbers


def _run_gx(frame: pd.DataFrame, suite_path: Path) -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    batch = (
        context.data_sources.add_pandas("party_tables")
        .add_dataframe_asset("party_table")
        .add_batch_definition_whole_dataframe("whole_table")
    )
    suite = context.suites.add(load_suite(suite_path))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{suite.name}_validation", data=batch, suite=suite)
    )
    return definition.run(
        batch_parameters={"dataframe": frame}, result_format={"result_format": "COMPLETE"}
    )


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    value = value.item() if hasattr(value, "item") else value
    return _bound(value)  # 39.0 -> 39: a number column with gaps is float in pandas


def _short(value: Any, limit: int = 80) -> str:
    value = _plain(value)
    if not isinstance(value, tuple) and pd.isna(value):
        return "<missing>"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_infinite(value: Any) -> bool:
    number = pd.to_numeric(pd.Series([value], dtype=object), errors="coerce").iloc[0]
    return bool(pd.notna(number) and np.isinf(float(number)))


def _bound(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _reason(kind: str, kwargs: Mapping[str, Any], column: str, value: Any) -> str:
    if kind == "expect_column_values_to_not_be_null":
        return f"{column} is missing"
    if kind == "expect_column_values_to_be_in_set":
        allowed = list(kwargs.get("value_set") or [])
        shown = ", ".join(map(repr, allowed[:8])) + (", ..." if len(allowed) > 8 else "")
        return f"{column}={_short(value)} is not an allowed value ({shown})"
    if kind == "expect_column_values_to_be_between":
        low, high = _bound(kwargs.get("min_value")), _bound(kwargs.get("max_value"))
        bounds = f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]"
        return f"{column}={_short(value)} is outside {bounds}"
    if kind == "expect_column_pair_values_to_be_in_set":
        return f"({column})={_short(value)} is not an allowed combination"
    if kind == "expect_column_values_to_be_in_type_list":
        return f"{column}={_short(value)} has type {type(value).__name__}"
    return f"{column}={_short(value)} breaks {kind}"


def _columns_of(kwargs: Mapping[str, Any]) -> list[str]:
    if "column" in kwargs:
        return [kwargs["column"]]
    return [kwargs[k] for k in ("column_A", "column_B") if k in kwargs] or list(
        kwargs.get("column_list") or []
    )


def _schema_messages(kind: str, result: Mapping[str, Any], kwargs: Mapping[str, Any]):
    if kind == "expect_table_columns_to_match_set":
        mismatched = (result.get("details") or {}).get("mismatched") or {}
        for name in mismatched.get("missing") or []:
            yield name, "required column is missing"
        for name in mismatched.get("unexpected") or []:
            yield name, "column is not part of the contract"
    elif kind == "expect_column_to_exist":
        yield kwargs.get("column"), "required column is missing"
    elif kind == "expect_column_values_to_be_in_type_list":
        observed = result.get("observed_value")
        if observed is None:
            unexpected = dict.fromkeys(map(_short, result.get("partial_unexpected_list") or []))
            sample = ", ".join(list(unexpected)[:3])
            observed = f"values such as {sample}"
        expected = "a number" if "int64" in kwargs.get("type_list", []) else "text"
        yield kwargs.get("column"), f"column should hold {expected}, found {observed}"
    elif kind == "expect_table_row_count_to_be_between":
        yield None, f"row count {result.get('observed_value')} is outside the allowed range"
    else:
        for name in _columns_of(kwargs) or [None]:
            yield name, f"breaks {kind}: {result.get('observed_value')}"


def validate_frame(
    df: pd.DataFrame, suite_path: str | os.PathLike[str] | None = None
) -> ContractResult:
    """Validate ``df`` against the suite at ``suite_path`` (default: the party table contract)."""
    path = Path(suite_path) if suite_path is not None else party_table_suite_path()
    spec = contract_spec(path)
    frame, not_numbers = _prepare(df, spec)
    report = _run_gx(frame, path)
    raw = df.reset_index(drop=True)
    present = set(frame.columns)

    schema: list[tuple[str | None, str]] = []
    failures: list[tuple[int, str, str, str, str]] = []
    errors: list[tuple[list[str], str]] = []
    rules: list[dict[str, Any]] = []
    for outcome in report.results:
        config = outcome.expectation_config
        kind, kwargs = config.type, dict(config.kwargs)
        level = (config.meta or {}).get("level", ROW)
        columns = _columns_of(kwargs)
        result = dict(outcome.result or {})
        indexes = list(result.get("unexpected_index_list") or [])
        rules.append(
            {
                "type": kind,
                "column": ",".join(columns) or None,
                "level": level,
                "success": bool(outcome.success),
                "unexpected_count": int(result.get("unexpected_count") or 0),
            }
        )
        if outcome.success:
            continue
        info = outcome.exception_info or {}
        raised = info.get("raised_exception") or any(
            isinstance(v, dict) and v.get("raised_exception") for v in info.values()
        )
        if raised:
            message = str(info.get("exception_message") or "")
            if not message:
                message = next(
                    (str(v.get("exception_message")) for v in info.values() if isinstance(v, dict)),
                    "",
                )
            errors.append((columns, f"GX could not evaluate {kind}: {message}".rstrip(": ")))
            continue
        if level == SCHEMA:
            schema.extend(_schema_messages(kind, result, kwargs))
            continue
        if len(indexes) != int(result.get("unexpected_count") or 0):
            raise RuntimeError(
                f"GX returned {len(indexes)} row indexes for {kind} on {columns} but counted "
                f"{result.get('unexpected_count')} failures"
            )
        label = ",".join(columns)
        for index in indexes:
            row = int(index)
            values = [frame.at[row, c] for c in columns]  # the value as GX saw it
            value = values[0] if len(values) == 1 else tuple(values)
            column = columns[0] if columns else ""
            if (
                kind == "expect_column_values_to_not_be_null"
                and column in not_numbers
                and row in not_numbers[column].index
            ):
                value = raw.at[row, column]  # the text that is not a number
                if _is_infinite(value):
                    reason = f"non-finite value {_short(value)} in numeric column {column}"
                else:
                    reason = f"non-numeric value {_short(value)} in numeric column {column}"
            else:
                reason = _reason(kind, kwargs, label, value)
            failures.append((row, kind, label, _short(value, 200), reason))

    # a rule that could not run on a column already reported (missing, wrong type) adds nothing
    reported = {c for c, _ in schema}
    for cols, message in errors:
        if not any(c in reported or c not in present for c in cols):
            schema.append((",".join(cols) or None, message))
    unique_schema = list(dict.fromkeys(schema))
    row_failures = pd.DataFrame(failures, columns=list(ROW_FAILURE_COLUMNS))
    row_failures["_row"] = row_failures["_row"].astype("int64")
    return ContractResult(
        suite_name=spec.name,
        rows=len(frame),
        success=bool(report.success),
        schema_failures=unique_schema,
        row_failures=row_failures.sort_values(["_row", "_rule"], kind="stable").reset_index(
            drop=True
        ),
        statistics=dict(report.statistics or {}),
        rules=rules,
        typed=frame,
    )
