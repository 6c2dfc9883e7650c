"""Validating a table against the contract chunk by chunk, with one GX context for all chunks.

- a first pass over the numeric columns that are not integers already
  (:func:`~pipelines.contracts.prepare.scan_numbers`) decides for every chunk alike whether a
  column holds no number at all (then it stays text and fails its type rule, as it would on the
  whole table); a number an ``int64`` column cannot hold (a fraction, a whole number beyond the
  int64 range) fails its row, so the validated table keeps the contract's types;
- GX then runs every rule except the row count on each chunk with ``result_format=COMPLETE``;
  every row-level rule returns the index of each row it rejects, and those indexes are the only
  source of row failures. Only rules whose verdict on the table is their verdict on each chunk are
  accepted (:func:`~pipelines.contracts.rules.chunkable`). Row failures carry positions in the
  table, not in the chunk;
- the row count rule is decided once on the stream's total, the one rule evaluated here rather
  than by GX (GX's own bounds: ``min_value``, ``max_value``, ``strict_min``, ``strict_max``).

Expectations are split by ``meta.level``: ``schema`` failures (missing or extra columns, wrong
column types, no rows) make the whole table unusable; ``row`` failures send single rows to
quarantine with the rule, column, value and a readable reason.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np
import pandas as pd

from pipelines.contracts.gx import GxContext
from pipelines.contracts.prepare import NumericScan, exact_integers, prepare_frame
from pipelines.contracts.reasons import (
    exception_message,
    row_reason,
    schema_messages,
    short,
)
from pipelines.contracts.results import (
    ROW_FAILURE_COLUMNS,
    ChunkOutcome,
    ContractResult,
    row_failure_frame,
)
from pipelines.contracts.rules import (
    ONE_ROW_PREFIXES,
    ROW_COUNT_RULES,
    Rule,
    chunkable,
    columns_of,
    row_count_outcome,
)
from pipelines.contracts.suite import (
    SCHEMA,
    PathLike,
    contract_path,
    contract_spec,
    read_suite_json,
)

#: ``(rule key, GX outcome, failing rows of the frame, failing row count)`` of one GX rule.
Outcome = tuple[int, Any, list[int], int]


class ContractStream:
    """Validates a table against a contract chunk by chunk, with one GX context for all chunks.

    GX runs every rule except the row count on each chunk (:func:`chunkable` rules only). The
    row count rule is decided on the total when the stream ends. A rule's schema message and
    its "could not evaluate" error are taken from the first chunk that reports them; its
    ``unexpected_count`` is summed over the chunks. Row failures carry table positions.

    Args:
        suite_path: the contract (default: ``settings.party_contract_path()``).
        numbers: decisions for the whole table (:func:`scan_numbers`); None for a table that
            comes as one chunk and decides them itself.
        keep_failures: how many row failures :meth:`finish` returns (None: all).
    """

    def __init__(
        self,
        suite_path: PathLike | None = None,
        *,
        numbers: NumericScan | None = None,
        keep_failures: int | None = None,
    ) -> None:
        self.path = contract_path(suite_path)
        self.spec = contract_spec(self.path)
        suite = read_suite_json(self.path)
        self.numbers = numbers
        self.keep_failures = keep_failures
        self._rules = [
            Rule(exp["type"], dict(exp.get("kwargs") or {}), exp["meta"]["level"])
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
        self._gx: GxContext | None = None
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
        self._gx = GxContext()
        main: dict[int, dict[str, Any]] = {}
        combos: dict[tuple[str, ...], dict[int, dict[str, Any]]] = {}
        for i, rule in enumerate(self._rules):
            if rule.kind in ROW_COUNT_RULES:
                continue
            expectation = self._suite["expectations"][i]
            cols = tuple(dict.fromkeys(rule.columns))
            if (
                len(cols) > 1
                and rule.kind.startswith(ONE_ROW_PREFIXES)
                and all(c in columns for c in cols)
            ):
                combos.setdefault(cols, {})[i] = expectation
            else:
                main[i] = expectation
        meta = self._suite.get("meta")
        self._suites = []
        if main:
            self._gx.add(self._suite["name"], main, meta)
            self._suites.append((self._suite["name"], None))
        for n, (cols, expectations) in enumerate(combos.items(), start=1):
            name = f"{self._suite['name']}__combinations_{n}"
            self._gx.add(name, expectations, meta)
            self._suites.append((name, cols))

    def _run_combinations(
        self, name: str, cols: tuple[str, ...], frame: pd.DataFrame
    ) -> list[Outcome]:
        assert self._gx is not None
        out = []
        group = frame.groupby(list(cols), dropna=False, sort=False).ngroup().to_numpy()
        firsts = np.unique(group, return_index=True)[1]
        distinct = frame.loc[firsts, list(cols)].reset_index(drop=True)
        for key, outcome in self._gx.run(name, distinct):
            result = outcome.result or {}
            found = [int(i) for i in result.get("unexpected_index_list") or []]
            if len(found) != int(result.get("unexpected_count") or 0):
                out.append((key, outcome, found, int(result.get("unexpected_count") or 0)))
                continue  # reported as GX's own mismatch by _row_failures
            failing = group[firsts[np.asarray(found, dtype=np.int64)]]
            rows = np.flatnonzero(np.isin(group, failing)).tolist()
            out.append((key, outcome, rows, len(rows)))
        return out

    def _run(self, frame: pd.DataFrame) -> list[Outcome]:
        """``(rule, GX outcome, failing rows of frame, failing row count)`` of each GX rule."""
        if self._gx is None:
            self._plan(frame.columns)
        assert self._gx is not None
        out: list[Outcome] = []
        for name, cols in self._suites:
            if cols is not None:
                out.extend(self._run_combinations(name, cols, frame))
                continue
            for key, outcome in self._gx.run(name, frame):
                result = outcome.result or {}
                indexes = [int(i) for i in result.get("unexpected_index_list") or []]
                out.append((key, outcome, indexes, int(result.get("unexpected_count") or 0)))
        return out

    def _failed_rows_of(self, rule: Rule, outcome: Any) -> bool:
        """Record a failed rule's schema message or GX error; True when it failed rows instead."""
        kind, kwargs = outcome.expectation_config.type, dict(outcome.expectation_config.kwargs)
        message = exception_message(outcome.exception_info or {})
        if message is not None:
            if rule.error is None:
                rule.error = f"GX could not evaluate {kind}: {message}".rstrip(": ")
            return False
        if rule.level == SCHEMA:
            if rule.schema is None:
                rule.schema = list(schema_messages(kind, dict(outcome.result or {}), kwargs))
            return False
        return True

    @staticmethod
    def _row_failures(
        outcome: Any,
        indexes: list[int],
        unexpected: int,
        frame: pd.DataFrame,
        raw: pd.DataFrame,
        not_numbers: dict[str, pd.Series],
    ) -> list[tuple[int, str, str, Any, str]]:
        """``(chunk row, rule, column, value, reason)`` of each row a row-level rule rejected.

        ``not_numbers``: per column, the reasons of the cells hidden from GX by
        :func:`prepare_frame`; the not-null rule reports them with these reasons.
        """
        kind, kwargs = outcome.expectation_config.type, dict(outcome.expectation_config.kwargs)
        columns = columns_of(kwargs)
        if len(indexes) != unexpected:
            raise RuntimeError(
                f"GX returned {len(indexes)} row indexes for {kind} on {columns} but counted "
                f"{unexpected} failures"
            )
        label = ",".join(columns)
        column = columns[0] if columns else ""
        text = not_numbers.get(column) if kind == "expect_column_values_to_not_be_null" else None
        failures = []
        for index in indexes:
            row = int(index)
            if text is not None and row in text.index:
                value = raw.at[row, column]  # the cell as written
                reason = str(text.at[row])
            else:
                values = [frame.at[row, c] for c in columns]  # the value as GX saw it
                value = values[0] if len(values) == 1 else tuple(values)
                reason = row_reason(kind, kwargs, label, value)
            failures.append((row, kind, label, value, reason))
        return failures

    def validate(self, chunk: pd.DataFrame) -> ChunkOutcome:
        """Validate the next chunk of the table (rows in table order)."""
        if self.numbers is None and self.chunks:
            raise RuntimeError("a stream without a NumericScan takes the whole table as one chunk")
        offset = self.rows
        text_columns = self.numbers.text_columns if self.numbers is not None else None
        frame, not_numbers = prepare_frame(chunk, self.spec, text_columns)
        outcomes = self._run(frame)
        raw = chunk.reset_index(drop=True)
        if self._present is None:
            self._present = set(frame.columns)
        failures: list[tuple[int, str, str, str, str]] = []
        for key, outcome, indexes, unexpected in outcomes:
            rule = self._rules[key]
            rule.unexpected_count += unexpected
            if outcome.success:
                continue
            rule.success = False
            if self._failed_rows_of(rule, outcome):
                failures.extend(
                    (offset + row, kind, label, short(value, 200), reason)
                    for row, kind, label, value, reason in self._row_failures(
                        outcome, indexes, unexpected, frame, raw, not_numbers
                    )
                )
        row_failures = row_failure_frame(failures)
        self.rows += len(frame)
        self.chunks += 1
        self._keep(row_failures)
        return ChunkOutcome(offset, raw, exact_integers(frame, raw, self.spec), row_failures)

    def _keep(self, row_failures: pd.DataFrame) -> None:
        """Count a chunk's row failures and keep them up to ``keep_failures``."""
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

    def _schema_failures(self) -> list[tuple[str | None, str]]:
        """Schema problems of the whole stream, the row count rule decided on its total."""
        present = self._present or set()
        for rule in self._rules:
            if rule.kind in ROW_COUNT_RULES:
                rule.success = row_count_outcome(rule.kind, rule.kwargs, self.rows)
                rule.schema = (
                    None
                    if rule.success
                    else list(schema_messages(rule.kind, {"observed_value": self.rows}, {}))
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
        return list(dict.fromkeys(schema))

    def finish(self, typed: pd.DataFrame | None = None) -> ContractResult:
        """The verdict on everything validated so far (the row count rule included)."""
        schema = self._schema_failures()
        rules = [r.summary() for r in self._rules]
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
            schema_failures=schema,
            row_failures=row_failures,
            statistics=statistics,
            rules=rules,
            failure_count=self.failure_count,
            failed_row_count=self.failed_row_count,
            typed=typed,
        )
