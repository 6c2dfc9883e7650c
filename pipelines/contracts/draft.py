"""Drafting a contract from a sample of rows (or a list of columns), for a person to review.

:func:`draft_contract` infers per column: the type (``int64``, ``float64`` or ``string``), the
allowed values of a low-cardinality text column (and of the label), the observed range of a
number, and whether missing values occur. :func:`write_draft` writes the GX suite (same format
as ``data_contracts/suites/party_table.json``), its people-readable YAML and a dataset file.
Every inference that a person must confirm is listed in :attr:`Draft.decisions`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

NUMBER_TYPE_LIST = ["int", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                    "uint64", "Int64", "float", "float32", "float64", "Float64"]
TEXT_TYPE_LIST = ["str", "object"]
_TYPES = {"int": "int64", "int64": "int64", "float": "float64", "float64": "float64",
          "str": "string", "string": "string", "text": "string"}


@dataclass
class ColumnDraft:
    """What was inferred about one column."""

    name: str
    type: str
    nullable: bool = False
    allowed: list[Any] | None = None
    range: tuple[Any, Any] | None = None
    distinct: int | None = None


@dataclass
class Draft:
    """A drafted contract: columns in file order, the label, and what a person must decide."""

    name: str
    label: str
    columns: list[ColumnDraft]
    rows: int
    decisions: list[str] = field(default_factory=list)

    @property
    def discrete_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.type == "string" or c.name == self.label]


def _plain(value: Any) -> Any:
    value = value.item() if hasattr(value, "item") else value
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _number_column(name: str, values: pd.Series, draft: Draft) -> ColumnDraft:
    present = values.dropna()
    whole = bool(len(present)) and bool((present % 1 == 0).all())
    column = ColumnDraft(name, "int64" if whole else "float64", distinct=int(present.nunique()))
    if len(present):
        column.range = (_plain(present.min()), _plain(present.max()))
        draft.decisions.append(
            f"{name}: range [{column.range[0]}, {column.range[1]}] is the sample's min and max; "
            "widen it to what any party may hold"
        )
    if values.isna().any():
        draft.decisions.append(
            f"{name}: {int(values.isna().sum())} missing values in the sample; a number column "
            "may not be missing (such rows are quarantined): fill them or drop the column"
        )
    return column


def _text_column(name: str, values: pd.Series, draft: Draft, max_categories: int) -> ColumnDraft:
    present = values.dropna().astype(str)
    distinct = sorted(present.unique().tolist())
    column = ColumnDraft(name, "string", nullable=bool(values.isna().any()),
                         distinct=len(distinct))
    if len(distinct) <= max_categories or name == draft.label:
        column.allowed = distinct
        draft.decisions.append(
            f"{name}: {len(distinct)} allowed values seen in the sample; is the list closed, "
            "or can other parties hold other values?"
        )
    else:
        draft.decisions.append(
            f"{name}: {len(distinct)} distinct values (more than {max_categories}): no list of "
            "allowed values; a free-text column is modelled as categories, consider dropping it"
        )
    if column.nullable:
        draft.decisions.append(f"{name}: missing values occur in the sample: allowed (nullable)")
    return column


def draft_contract(
    sample: pd.DataFrame, label: str, name: str, max_categories: int = 50
) -> Draft:
    """Infer a contract from ``sample`` (a frame as read from the files).

    Raises:
        ValueError: ``label`` is not a column of the sample.
    """
    if label not in sample.columns:
        raise ValueError(f"label {label!r} is not a column of the sample "
                         f"(columns: {', '.join(map(str, sample.columns))})")
    draft = Draft(name=name, label=label, columns=[], rows=len(sample))
    for column_name in sample.columns:
        values = sample[column_name]
        is_number = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(
            values
        )
        if is_number and column_name != label:
            draft.columns.append(_number_column(str(column_name), values, draft))
        elif is_number:  # a numeric label: its classes are the values seen
            column = _number_column(str(column_name), values, draft)
            column.allowed = sorted(_plain(v) for v in values.dropna().unique())
            column.range = None
            draft.columns.append(column)
        else:
            draft.columns.append(_text_column(str(column_name), values, draft, max_categories))
    return draft


def draft_from_columns(spec: str, label: str, name: str) -> Draft:
    """A draft from ``"name:type,name:type,..."`` (types ``int``, ``float``, ``str``).

    Raises:
        ValueError: naming the entry that is malformed, or a label that is not listed.
    """
    draft = Draft(name=name, label=label, columns=[], rows=0)
    for item in (part.strip() for part in spec.split(",") if part.strip()):
        column, _, kind = item.partition(":")
        if kind.strip().lower() not in _TYPES:
            raise ValueError(f"--columns {item!r}: expected NAME:TYPE with TYPE one of "
                             "int, float, str")
        draft.columns.append(ColumnDraft(column.strip(), _TYPES[kind.strip().lower()]))
    if label not in [c.name for c in draft.columns]:
        raise ValueError(f"label {label!r} is not among --columns")
    draft.decisions.append("no sample: no allowed values and no ranges; add them by hand")
    return draft


def _expectations(draft: Draft) -> list[dict[str, Any]]:
    names = [c.name for c in draft.columns]
    out: list[dict[str, Any]] = [
        {"type": "expect_table_columns_to_match_set",
         "kwargs": {"column_set": names, "exact_match": True},
         "meta": {"level": "schema", "notes": "every party table has exactly these columns"}},
        {"type": "expect_table_row_count_to_be_between",
         "kwargs": {"min_value": 1, "max_value": None},
         "meta": {"level": "schema", "notes": "a party table has at least one row"}},
    ]
    for c in draft.columns:
        kwargs = {"column": c.name}
        types = NUMBER_TYPE_LIST if c.type != "string" else TEXT_TYPE_LIST
        out.append({"type": "expect_column_to_exist", "kwargs": kwargs,
                    "meta": {"level": "schema"}})
        out.append({"type": "expect_column_values_to_be_in_type_list",
                    "kwargs": {**kwargs, "type_list": types}, "meta": {"level": "schema"}})
        if not c.nullable:
            out.append({"type": "expect_column_values_to_not_be_null", "kwargs": kwargs,
                        "meta": {"level": "row"}})
        if c.allowed is not None:
            out.append({"type": "expect_column_values_to_be_in_set",
                        "kwargs": {**kwargs, "value_set": c.allowed}, "meta": {"level": "row"}})
        if c.range is not None:
            out.append({"type": "expect_column_values_to_be_between",
                        "kwargs": {**kwargs, "min_value": c.range[0], "max_value": c.range[1]},
                        "meta": {"level": "row"}})
    return out


def suite_json(draft: Draft, doc_name: str) -> dict[str, Any]:
    """The GX suite of ``draft`` (with the ``meta`` block the pipeline reads)."""
    return {
        "name": draft.name,
        "meta": {
            "contract_version": "0.1.0",
            "description": f"Draft contract {draft.name}, inferred from {draft.rows} sample rows; "
            "review before use.",
            "label": draft.label,
            "discrete_columns": draft.discrete_columns,
            "column_types": {c.name: c.type for c in draft.columns},
            "documentation": doc_name,
        },
        "expectations": _expectations(draft),
    }


def _doc_column(c: ColumnDraft, label: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": c.type, "nullable": c.nullable}
    if c.range is not None:
        entry["range"] = list(c.range)
    if c.allowed is not None:
        entry["allowed"] = c.allowed
    if c.name == label:
        entry["label"] = True
    entry["pii"] = "to decide"
    entry["description"] = f"TO REVIEW: what {c.name} means" + (" (the label)." if
                                                                  c.name == label else ".")
    return entry


def write_draft(draft: Draft, out: Path, landing: str, test_set: str | None) -> dict[str, Path]:
    """Write the suite, its YAML and ``dataset.yaml`` under ``out``; returns the paths."""
    suite_path = out / "suites" / f"{draft.name}.json"
    doc_path = out / f"{draft.name}.yaml"
    dataset_path = out / "dataset.yaml"
    suite_path.parent.mkdir(parents=True, exist_ok=True)
    suite_path.write_text(json.dumps(suite_json(draft, doc_path.name), indent=2) + "\n",
                          encoding="utf-8")
    doc = {"contract": draft.name, "suite": f"suites/{suite_path.name}", "version": "0.1.0",
           "label": draft.label, "row_count": "at least 1",
           "extra_columns": "not allowed (the set of columns must match exactly; order is free)",
           "columns": {c.name: _doc_column(c, draft.label) for c in draft.columns}}
    header = ("# People-readable form of the drafted contract: review every entry marked\n"
              "# TO REVIEW / to decide, then keep it in step with the suite.\n")
    doc_path.write_text(header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True),
                        encoding="utf-8")
    dataset = {"name": draft.name, "contract": f"suites/{suite_path.name}",
               "contract_doc": doc_path.name, "label": draft.label, "landing": landing,
               "test_set": test_set, "namespace": draft.name}
    dataset_path.write_text(yaml.safe_dump(dataset, sort_keys=False), encoding="utf-8")
    return {"suite": suite_path, "doc": doc_path, "dataset": dataset_path}
