"""Column documentation of the shared party table, from the contract's human-readable form.

``data_contracts/party_table.yaml`` (``settings.party_contract_doc_path()``) describes each column
for Dagster table schemas and warehouse column comments; the executable contract is the suite that
:mod:`pipelines.contracts.suite` reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import yaml

from pipelines import settings


@dataclass(frozen=True)
class ColumnDoc:
    """What the human-readable contract says about one column of the shared schema."""

    name: str
    type: str
    description: str
    pii: str | None = None
    nullable: bool = True
    rule: str | None = None  # "range [a, b]" or "n allowed values"
    label: bool = False

    def text(self) -> str:
        """One-line description, with the label role and PII class spelled out."""
        parts = [self.description.strip()]
        if self.pii:
            parts.append(f"PII: {self.pii}.")
        return " ".join(p for p in parts if p)

    def table_column(self, type_name: str | None = None) -> dg.TableColumn:
        """This column as a ``dg.TableColumn`` (constraints and PII class as tags)."""
        other = [self.rule] if self.rule else []
        tags = {"pii": self.pii} if self.pii else {}
        if self.label:
            tags["role"] = "label"
        return dg.TableColumn(
            self.name,
            type_name or self.type,
            description=self.text(),
            constraints=dg.TableColumnConstraints(nullable=self.nullable, other=other),
            tags=tags,
        )


def _rule(spec: dict[str, Any]) -> str | None:
    if spec.get("range"):
        low, high = (list(spec["range"]) + [None, None])[:2]
        low = "-inf" if low is None else low
        high = "inf" if high is None else high
        return f"range [{low}, {high}]"
    if spec.get("allowed"):
        return f"{len(spec['allowed'])} allowed values"
    return None


def column_docs(path: Path | None = None) -> dict[str, ColumnDoc]:
    """Column name -> :class:`ColumnDoc`, in the contract's order, from ``party_table.yaml``.

    Raises:
        ValueError: naming the file when its ``columns`` block is missing or lacks a description.
    """
    path = Path(path) if path else settings.party_contract_doc_path()
    columns = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("columns")
    if not isinstance(columns, dict) or not columns:
        raise ValueError(f"{path}: a 'columns' mapping is required")
    docs = {}
    for name, spec in columns.items():
        spec = spec or {}
        if not spec.get("description"):
            raise ValueError(f"{path}: column {name!r} has no description")
        docs[str(name)] = ColumnDoc(
            name=str(name),
            type=str(spec.get("type", "string")),
            description=str(spec["description"]),
            pii=spec.get("pii"),
            nullable=bool(spec.get("nullable", True)),
            rule=_rule(spec),
            label=bool(spec.get("label", False)),
        )
    return docs


def shared_table_schema(types: dict[str, str] | None = None) -> dg.TableSchema:
    """``dg.TableSchema`` of the shared party table (``types`` overrides the contract's types,
    e.g. with a materialized table's dtypes; columns not in the contract get no description)."""
    docs = column_docs()
    names = list(types) if types is not None else list(docs)
    return dg.TableSchema(
        columns=[
            docs[n].table_column((types or {}).get(n)) if n in docs
            else dg.TableColumn(n, (types or {}).get(n, "string"))
            for n in names
        ]
    )
