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

Tables larger than a chunk are validated chunk by chunk (:class:`ContractStream`,
:func:`validate_chunks`), so memory holds one chunk, not the table:

- a first pass over the numeric columns that are not integers already (:func:`scan_numbers`)
  decides for every chunk alike whether a column holds no number at all (then it stays text and
  fails its type rule, as it would on the whole table) and whether an ``int64`` column holds a
  fractional number (then the validated table keeps it as ``float64``);
- GX then runs every rule except the row count on each chunk, with one context for the whole
  stream. Only rules whose verdict on the table is their verdict on each chunk are accepted:
  rules on the columns (every chunk has the table's columns and dtypes) and rules on one row at
  a time (:func:`chunkable`). Row failures carry positions in the table, not in the chunk;
- the row count rule is decided once on the stream's total, the one rule the runner evaluates
  itself (GX's own bounds: ``min_value``, ``max_value``, ``strict_min``, ``strict_max``).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Collection, Iterable, Mapping
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


#: Rules whose verdict on a table is their verdict on each chunk of it: rules about the columns
#: (every chunk has the table's columns and dtypes) and rules about one row at a time.
STRUCTURE_RULES = frozenset(
    {
        "expect_column_to_exist",
        "expect_table_columns_to_match_set",
        "expect_table_columns_to_match_ordered_list",
        "expect_table_column_count_to_equal",
        "expect_table_column_count_to_be_between",
    }
)
_ONE_ROW_PREFIXES = (
    "expect_column_values_to_",
    "expect_column_pair_values_",
    "expect_multicolumn_sum_",
    "expect_select_column_values_to_be_unique_within_record",
)
#: Map rules that compare rows with each other: no chunk can decide them alone.
_ACROSS_ROWS = frozenset(
    {
        "expect_column_values_to_be_unique",
        "expect_column_values_to_be_increasing",
        "expect_column_values_to_be_decreasing",
    }
)
#: Rules on the number of rows: evaluated once, on the stream's total.
ROW_COUNT_RULES = frozenset(
    {"expect_table_row_count_to_be_between", "expect_table_row_count_to_equal"}
)


def chunkable(kind: str) -> bool:
    """Whether a rule can be run chunk by chunk with the verdict it has on the whole table."""
    if kind in _ACROSS_ROWS:
        return False
    return kind in STRUCTURE_RULES or kind.startswith(_ONE_ROW_PREFIXES)


@dataclass
class ContractResult:
    """The outcome of validating one table (whole or chunk by chunk) against a contract.

    ``row_failures`` has one row per (failing row, broken rule) with columns ``_row`` (position in
    the validated table), ``_rule``, ``_column``, ``_value`` and ``_reason``, sorted by row. A
    streamed validation keeps only the first ``keep_failures`` of them; ``failure_count`` and
    ``failed_row_count`` always count them all.
    """

    suite_name: str
    rows: int
    success: bool
    schema_failures: list[tuple[str | None, str]]
    row_failures: pd.DataFrame
    statistics: dict[str, Any]
    rules: list[dict[str, Any]]
    failure_count: int = 0
    failed_row_count: int = 0
    typed: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def schema_ok(self) -> bool:
        return not self.schema_failures

    @property
    def failed_rows(self) -> list[int]:
        """Positions of the failing rows among ``row_failures`` (all of them unless capped)."""
        return sorted(set(self.row_failures["_row"].tolist()))

    def failure_counts(self) -> dict[str, int]:
        """How many rows each (rule, column) rejected, e.g. ``{"age: between": 3}``."""
        counts: dict[str, int] = {}
        for rule in self.rules:
            if rule["level"] == ROW and rule["unexpected_count"]:
                counts[f"{rule['column']}: {rule['type']}"] = rule["unexpected_count"]
        return counts


@dataclass
class ChunkOutcome:
    """One chunk of a streamed validation: the chunk as received, as GX saw it, and its failures.

    ``row_failures`` is laid out like :attr:`ContractResult.row_failures`; its ``_row`` is the
    position in the whole table (``offset`` + position in the chunk).
    """

    offset: int
    raw: pd.DataFrame = field(repr=False)
    typed: pd.DataFrame = field(repr=False)
    row_failures: pd.DataFrame

    @property
    def failed_rows(self) -> list[int]:
        """Table positions of the chunk's failing rows, sorted."""
        return sorted(set(self.row_failures["_row"].tolist()))

    def validated_frame(
        self, column_types: Mapping[str, str], as_float: Collection[str] = ()
    ) -> pd.DataFrame:
        """The chunk's rows that broke no rule, typed as the contract says.

        ``int64`` columns named in ``as_float`` stay ``float64``: the table holds a fractional
        number there somewhere (see :class:`NumericScan`), and every chunk must have one dtype.
        """
        local = [row - self.offset for row in self.failed_rows]
        keep = self.typed.drop(index=local)
        out = pd.DataFrame(index=keep.index)
        for name, kind in column_types.items():
            column = keep[name]
            if kind in NUMERIC_TYPES:
                column = pd.to_numeric(column)
                wanted = "float64" if kind == "float64" or name in as_float else "int64"
                column = column.astype(wanted)
            else:
                column = column.astype(object)
            out[name] = column
        return out.reset_index(drop=True)

    def quarantine_frame(self) -> pd.DataFrame:
        """The chunk's failing rows as received, with the reasons of each row joined by '; '."""
        if self.row_failures.empty:
            empty = self.raw.iloc[0:0].copy()
            for name in QUARANTINE_COLUMNS:
                empty[name] = pd.Series(dtype=object)
            return empty
        grouped = self.row_failures.groupby("_row", sort=True)[list(QUARANTINE_COLUMNS)].agg(
            "; ".join
        )
        out = self.raw.iloc[grouped.index.to_numpy() - self.offset].copy()
        for name in QUARANTINE_COLUMNS:
            out[name] = grouped[name].to_numpy()
        return out.reset_index(drop=True)


@dataclass(frozen=True)
class NumericScan:
    """What a first pass over a table's numeric columns decides for every chunk alike.

    Attributes:
        text_columns: columns the contract types as numbers in which not one value is a number.
            They are left as text, so that their type rule fails at schema level (a chunk that
            happens to hold only text is *not* such a column: its rows are quarantined).
        fractional: ``int64`` columns that hold a fractional number somewhere in the table.
    """

    text_columns: frozenset[str] = frozenset()
    fractional: frozenset[str] = frozenset()


def _as_numbers(column: pd.Series) -> tuple[pd.Series, bool]:
    """The column read as numbers, and whether its dtype already was numeric."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column, True
    return pd.to_numeric(column, errors="coerce"), False


def columns_to_scan(dtypes: Mapping[str, Any], spec: ContractSpec) -> list[str]:
    """Numeric contract columns whose dtype does not already settle :class:`NumericScan`."""
    return [
        name
        for name, kind in spec.column_types.items()
        if kind in NUMERIC_TYPES
        and name in dtypes
        and not (
            pd.api.types.is_integer_dtype(dtypes[name])
            and not pd.api.types.is_bool_dtype(dtypes[name])
        )
    ]


def scan_numbers(
    chunks: Iterable[pd.DataFrame], spec: ContractSpec, columns: Collection[str]
) -> NumericScan:
    """Pass over ``columns`` of a table (from :func:`columns_to_scan`) chunk by chunk."""
    columns = list(columns)
    if not columns:
        return NumericScan()
    has_number: set[str] = set()
    numeric_dtype: set[str] = set()
    fractional: set[str] = set()
    for chunk in chunks:
        for name in columns:
            numbers, already = _as_numbers(chunk[name])
            if already:
                numeric_dtype.add(name)
            if name not in has_number and numbers.notna().any():
                has_number.add(name)
            if spec.column_types[name] == "int64" and name not in fractional:
                values = numbers.to_numpy(dtype=float, na_value=np.nan)
                finite = values[np.isfinite(values)]
                if (finite % 1 != 0).any():
                    fractional.add(name)
    text = {c for c in columns if c not in has_number and c not in numeric_dtype}
    return NumericScan(frozenset(text), frozenset(fractional))


def _prepare(
    raw: pd.DataFrame, spec: ContractSpec, text_columns: Collection[str] | None = None
) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """The frame GX sees, plus, per numeric column, the raw text of cells that are not numbers.

    ``text_columns``: numeric contract columns to leave as text (no value in the table is a
    number); None decides from this frame alone (the frame is the whole table).
    """
    frame = raw.reset_index(drop=True).copy()
    not_numbers: dict[str, pd.Series] = {}
    for name, kind in spec.column_types.items():
        if name not in frame.columns:
            continue
        column = frame[name]
        if kind in NUMERIC_TYPES:
            numbers, already = _as_numbers(column)
            if already:
                bad = pd.Series(False, index=column.index)
            else:
                bad = column.notna() & numbers.isna()
                if text_columns is None:
                    as_text = bool(bad.all()) or not numbers.notna().any()
                else:
                    as_text = name in text_columns
                if as_text:
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


class _GxContext:
    """One ephemeral GX context; its suites are run on one frame (chunk) after another."""

    def __init__(self) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self._gx = gx
        self._context = gx.get_context(mode="ephemeral")
        self._context.variables.progress_bars = ProgressBarsConfig(
            globally=False, metric_calculations=False
        )
        self._batch = (
            self._context.data_sources.add_pandas("party_tables")
            .add_dataframe_asset("party_table")
            .add_batch_definition_whole_dataframe("whole_table")
        )
        self._definitions: dict[str, Any] = {}
        #: per suite: GX's id of each expectation -> the caller's key for it
        self.keys: dict[str, dict[str, int]] = {}

    def add(self, name: str, expectations: Mapping[int, dict[str, Any]], meta: Any) -> None:
        """Add a suite of ``{key: expectation}``; results of :meth:`run` come with the keys."""
        gx = self._gx
        suite = self._context.suites.add(
            gx.ExpectationSuite(name=name, expectations=list(expectations.values()), meta=meta)
        )
        self.keys[name] = {
            exp.id: key for exp, key in zip(suite.expectations, expectations, strict=True)
        }
        self._definitions[name] = self._context.validation_definitions.add(
            gx.ValidationDefinition(name=f"{name}_validation", data=self._batch, suite=suite)
        )

    def run(self, name: str, frame: pd.DataFrame) -> list[tuple[int, Any]]:
        """``(key, GX outcome)`` of each rule of suite ``name`` on ``frame``."""
        report = self._definitions[name].run(
            batch_parameters={"dataframe": frame}, result_format={"result_format": "COMPLETE"}
        )
        keys = self.keys[name]
        return [(keys[outcome.expectation_config.id], outcome) for outcome in report.results]


@dataclass
class _Rule:
    kind: str
    kwargs: dict[str, Any]
    level: str
    success: bool = True
    unexpected_count: int = 0
    schema: list[tuple[str | None, str]] | None = None  # the first chunk's schema messages
    error: str | None = None  # the first chunk's "GX could not evaluate" message

    @property
    def columns(self) -> list[str]:
        return _columns_of(self.kwargs)


def _row_count_outcome(kind: str, kwargs: Mapping[str, Any], rows: int) -> bool:
    """GX's verdict of a row count rule, on the stream's total."""
    if kind == "expect_table_row_count_to_equal":
        return rows == kwargs.get("value")
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if low is not None and (rows <= low if kwargs.get("strict_min") else rows < low):
        return False
    return not (high is not None and (rows >= high if kwargs.get("strict_max") else rows > high))


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


class ContractStream:
    """Validates a table against a contract chunk by chunk, with one GX context for all chunks.

    GX runs every rule except the row count on each chunk (:func:`chunkable` rules only). The
    row count rule is decided on the total when the stream ends. A rule's schema message and
    its "could not evaluate" error are taken from the first chunk that reports them; its
    ``unexpected_count`` is summed over the chunks. Row failures carry table positions.

    Args:
        suite_path: the contract (default: the party table contract).
        numbers: decisions for the whole table (:func:`scan_numbers`); None for a table that
            comes as one chunk and decides them itself.
        keep_failures: how many row failures :meth:`finish` returns (None: all).
    """

    def __init__(
        self,
        suite_path: str | os.PathLike[str] | None = None,
        *,
        numbers: NumericScan | None = None,
        keep_failures: int | None = None,
    ) -> None:
        self.path = Path(suite_path) if suite_path is not None else party_table_suite_path()
        self.spec = contract_spec(self.path)
        suite = read_suite_json(self.path)
        self.numbers = numbers
        self.keep_failures = keep_failures
        self._rules = [
            _Rule(exp["type"], dict(exp.get("kwargs") or {}), exp["meta"]["level"])
            for exp in suite["expectations"]
        ]
        unsupported = sorted(
            {r.kind for r in self._rules if not chunkable(r.kind) and r.kind not in ROW_COUNT_RULES}
        )
        if unsupported and numbers is not None:
            raise ValueError(
                f"contract {self.path}: rules {unsupported} compare rows with each other and "
                "cannot be validated chunk by chunk"
            )
        self._suite = suite
        self._gx: _GxContext | None = None
        self._suites: list[tuple[str, tuple[str, ...] | None]] = []
        self.rows = 0
        self.chunks = 0
        self._present: set[str] | None = None
        self._failures: list[pd.DataFrame] = []
        self._kept = 0
        self.failure_count = 0
        self.failed_row_count = 0

    @property
    def schema_failed(self) -> bool:
        """Whether a chunk so far broke a schema rule or a rule could not be evaluated."""
        return any(r.schema or r.error is not None for r in self._rules)

    def _plan(self, columns: Collection[str]) -> None:
        """Split the GX rules into suites: rules on several columns of one row are run on the
        distinct value combinations of their columns (GX's pandas code for them goes row by row
        in Python), every other rule on the chunk itself."""
        self._gx = _GxContext()
        main: dict[int, dict[str, Any]] = {}
        combos: dict[tuple[str, ...], dict[int, dict[str, Any]]] = {}
        for i, rule in enumerate(self._rules):
            if rule.kind in ROW_COUNT_RULES:
                continue
            expectation = self._suite["expectations"][i]
            cols = tuple(dict.fromkeys(rule.columns))
            if (
                len(cols) > 1
                and rule.kind.startswith(_ONE_ROW_PREFIXES)
                and all(c in columns for c in cols)
            ):
                combos.setdefault(cols, {})[i] = expectation
            else:
                main[i] = expectation
        meta = self._suite.get("meta")
        self._suites: list[tuple[str, tuple[str, ...] | None]] = []
        if main:
            self._gx.add(self._suite["name"], main, meta)
            self._suites.append((self._suite["name"], None))
        for n, (cols, expectations) in enumerate(combos.items(), start=1):
            name = f"{self._suite['name']}__combinations_{n}"
            self._gx.add(name, expectations, meta)
            self._suites.append((name, cols))

    def _run(self, frame: pd.DataFrame) -> list[tuple[int, Any, list[int], int]]:
        """``(rule, GX outcome, failing rows of frame, failing row count)`` of each GX rule."""
        if self._gx is None:
            self._plan(frame.columns)
        assert self._gx is not None
        out = []
        for name, cols in self._suites:
            if cols is None:
                for key, outcome in self._gx.run(name, frame):
                    result = outcome.result or {}
                    indexes = [int(i) for i in result.get("unexpected_index_list") or []]
                    out.append((key, outcome, indexes, int(result.get("unexpected_count") or 0)))
                continue
            group = frame.groupby(list(cols), dropna=False, sort=False).ngroup().to_numpy()
            firsts = np.unique(group, return_index=True)[1]
            distinct = frame.loc[firsts, list(cols)].reset_index(drop=True)
            for key, outcome in self._gx.run(name, distinct):
                result = outcome.result or {}
                found = [int(i) for i in result.get("unexpected_index_list") or []]
                if len(found) != int(result.get("unexpected_count") or 0):
                    out.append((key, outcome, found, int(result.get("unexpected_count") or 0)))
                    continue  # reported as GX's own mismatch below
                failing = group[firsts[np.asarray(found, dtype=np.int64)]]
                rows = np.flatnonzero(np.isin(group, failing)).tolist()
                out.append((key, outcome, rows, len(rows)))
        return out

    def validate(self, chunk: pd.DataFrame) -> ChunkOutcome:
        """Validate the next chunk of the table (rows in table order)."""
        if self.numbers is None and self.chunks:
            raise RuntimeError("a stream without a NumericScan takes the whole table as one chunk")
        offset = self.rows
        text_columns = self.numbers.text_columns if self.numbers is not None else None
        frame, not_numbers = _prepare(chunk, self.spec, text_columns)
        outcomes = self._run(frame)
        raw = chunk.reset_index(drop=True)
        if self._present is None:
            self._present = set(frame.columns)
        failures: list[tuple[int, str, str, str, str]] = []
        for key, outcome, indexes, unexpected in outcomes:
            config = outcome.expectation_config
            rule = self._rules[key]
            kind, kwargs = config.type, dict(config.kwargs)
            columns = _columns_of(kwargs)
            result = dict(outcome.result or {})
            rule.unexpected_count += unexpected
            if outcome.success:
                continue
            rule.success = False
            info = outcome.exception_info or {}
            raised = info.get("raised_exception") or any(
                isinstance(v, dict) and v.get("raised_exception") for v in info.values()
            )
            if raised:
                message = str(info.get("exception_message") or "")
                if not message:
                    message = next(
                        (
                            str(v.get("exception_message"))
                            for v in info.values()
                            if isinstance(v, dict)
                        ),
                        "",
                    )
                if rule.error is None:
                    rule.error = f"GX could not evaluate {kind}: {message}".rstrip(": ")
                continue
            if rule.level == SCHEMA:
                if rule.schema is None:
                    rule.schema = list(_schema_messages(kind, result, kwargs))
                continue
            if len(indexes) != unexpected:
                raise RuntimeError(
                    f"GX returned {len(indexes)} row indexes for {kind} on {columns} but counted "
                    f"{unexpected} failures"
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
                failures.append((offset + row, kind, label, _short(value, 200), reason))

        row_failures = pd.DataFrame(failures, columns=list(ROW_FAILURE_COLUMNS))
        row_failures["_row"] = row_failures["_row"].astype("int64")
        row_failures = row_failures.sort_values(["_row", "_rule"], kind="stable").reset_index(
            drop=True
        )
        self.rows += len(frame)
        self.chunks += 1
        self.failure_count += len(row_failures)
        self.failed_row_count += int(row_failures["_row"].nunique())
        room = (
            len(row_failures)
            if self.keep_failures is None
            else max(0, self.keep_failures - self._kept)
        )
        if room and len(row_failures):
            self._failures.append(row_failures.head(room))
            self._kept += min(room, len(row_failures))
        return ChunkOutcome(offset, raw, frame, row_failures)

    def finish(self, typed: pd.DataFrame | None = None) -> ContractResult:
        """The verdict on everything validated so far (the row count rule included)."""
        present = self._present or set()
        for rule in self._rules:
            if rule.kind in ROW_COUNT_RULES:
                rule.success = _row_count_outcome(rule.kind, rule.kwargs, self.rows)
                rule.schema = (
                    None
                    if rule.success
                    else list(_schema_messages(rule.kind, {"observed_value": self.rows}, {}))
                )
        schema: list[tuple[str | None, str]] = []
        for rule in self._rules:
            if rule.level == SCHEMA and rule.schema:
                schema.extend(rule.schema)
        # a rule that could not run on a column already reported (missing, wrong type) adds nothing
        reported = {c for c, _ in schema}
        for rule in self._rules:
            if rule.error is not None and not any(
                c in reported or c not in present for c in rule.columns
            ):
                schema.append((",".join(rule.columns) or None, rule.error))
        rules = [
            {
                "type": r.kind,
                "column": ",".join(r.columns) or None,
                "level": r.level,
                "success": r.success,
                "unexpected_count": r.unexpected_count,
            }
            for r in self._rules
        ]
        successful = sum(r["success"] for r in rules)
        statistics = {
            "evaluated_expectations": len(rules),
            "successful_expectations": successful,
            "unsuccessful_expectations": len(rules) - successful,
            "success_percent": 100.0 * successful / len(rules) if rules else None,
        }
        if self._failures:
            row_failures = pd.concat(self._failures, ignore_index=True)
        else:
            row_failures = pd.DataFrame(columns=list(ROW_FAILURE_COLUMNS))
            row_failures["_row"] = row_failures["_row"].astype("int64")
        return ContractResult(
            suite_name=self.spec.name,
            rows=self.rows,
            success=successful == len(rules),
            schema_failures=list(dict.fromkeys(schema)),
            row_failures=row_failures,
            statistics=statistics,
            rules=rules,
            failure_count=self.failure_count,
            failed_row_count=self.failed_row_count,
            typed=typed,
        )


def validate_chunks(
    chunks: Iterable[pd.DataFrame],
    suite_path: str | os.PathLike[str] | None = None,
    *,
    numbers: NumericScan,
    keep_failures: int | None = None,
    on_chunk: Callable[[ChunkOutcome], None] | None = None,
) -> ContractResult:
    """Validate a table given chunk by chunk; ``on_chunk`` sees each chunk's outcome in turn.

    ``numbers`` comes from a first pass over the table (:func:`scan_numbers`). Memory holds one
    chunk, its outcome and the first ``keep_failures`` row failures.
    """
    stream = ContractStream(suite_path, numbers=numbers, keep_failures=keep_failures)
    for chunk in chunks:
        outcome = stream.validate(chunk)
        if on_chunk is not None:
            on_chunk(outcome)
    return stream.finish()


def validate_frame(
    df: pd.DataFrame, suite_path: str | os.PathLike[str] | None = None
) -> ContractResult:
    """Validate ``df`` as one chunk against the suite at ``suite_path`` (default: party table).

    Every row failure is returned, and ``typed`` holds the frame as GX saw it.
    """
    stream = ContractStream(suite_path)
    outcome = stream.validate(df)
    return stream.finish(typed=outcome.typed)
