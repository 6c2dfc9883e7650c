"""The one reader of the contract file: the GX suite as JSON, and what its ``meta`` says.

The contract every party table must meet is ``settings.party_contract_path()``
(``data_contracts/suites/party_table.json`` unless ``DAGAN_PARTY_CONTRACT`` names another file).
Ingest, the party summaries, training and the column documentation all read it through this
module, as plain JSON: great_expectations is not imported here.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pipelines import settings

SCHEMA = "schema"
ROW = "row"
LEVELS = (SCHEMA, ROW)
NUMERIC_TYPES = {"int64": "int64", "float64": "float64"}
TEXT_TYPES = {"string"}

PathLike = str | os.PathLike[str]


def _check_expectations(path: Path, expectations: Any) -> None:
    if not isinstance(expectations, list) or not expectations:
        raise ValueError(f"contract {path}: 'expectations' must be a non-empty list")
    for i, exp in enumerate(expectations):
        level = (exp.get("meta") or {}).get("level")
        if level not in LEVELS:
            raise ValueError(
                f"contract {path}: expectation #{i} ({exp.get('type')}) needs meta.level "
                f"in {LEVELS}, got {level!r}"
            )


def _check_column_types(path: Path, types: Any, expectations: list[dict[str, Any]]) -> None:
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


def read_suite_json(path: PathLike) -> dict[str, Any]:
    """The suite file as plain JSON (no GX import), with its structure checked."""
    path = Path(path)
    try:
        suite = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"contract {path}: cannot read it as JSON: {exc}") from exc
    if not isinstance(suite, dict) or not suite.get("name"):
        raise ValueError(f"contract {path}: top level must be an object with a 'name'")
    expectations = suite.get("expectations")
    _check_expectations(path, expectations)
    _check_column_types(path, (suite.get("meta") or {}).get("column_types"), expectations)
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


def contract_path(path: PathLike | None = None) -> Path:
    """``path``, or the party table contract (``settings.party_contract_path()``)."""
    return Path(path) if path is not None else settings.party_contract_path()


def contract_spec(path: PathLike | None = None) -> ContractSpec:
    """Label, discrete columns and column types from a suite's ``meta`` block (no GX import)."""
    path = contract_path(path)
    return _contract_spec(path, path.stat().st_mtime_ns)


def _check_dataset_label(label: str) -> None:
    """The selected dataset file's label must be its contract's (unless DAGAN_PARTY_CONTRACT
    replaced the contract)."""
    from pipelines.datasets import active_dataset, check_label

    if not os.environ.get("DAGAN_PARTY_CONTRACT"):
        check_label(active_dataset(), label)


@dataclass(frozen=True)
class ModelColumns:
    """The label column and the discrete columns (the label included) of the shared schema."""

    label: str
    discrete_columns: tuple[str, ...]


def model_columns(path: PathLike | None = None) -> ModelColumns:
    """``label`` and ``discrete_columns`` from the contract's ``meta``.

    Raises:
        ValueError: naming the file when either entry is missing or malformed.
    """
    spec = contract_spec(path)
    meta = spec.meta
    label = meta.get("label")
    discrete = meta.get("discrete_columns")
    if not isinstance(label, str) or not label:
        raise ValueError(f"{spec.path}: meta.label must name the label column")
    if not isinstance(discrete, list) or not all(isinstance(c, str) for c in discrete):
        raise ValueError(f"{spec.path}: meta.discrete_columns must be a list of column names")
    if path is None:
        _check_dataset_label(label)
    if label not in discrete:
        discrete = [*discrete, label]
    return ModelColumns(label=label, discrete_columns=tuple(discrete))
