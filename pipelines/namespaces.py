"""Which dataset owns which warehouse namespace, so that two datasets never share tables.

Every dataset publishes under its namespace (:meth:`pipelines.datasets.Dataset.schema`). The
first time a dataset writes synthetic rows, it records in ``main.dagan_datasets`` its namespace,
name, label and contract columns; a later write into that namespace by a dataset with another
label or other columns is refused, naming both, before any row is written.
"""

from __future__ import annotations

import json
from typing import Any

from pipelines.contracts import contract_spec
from pipelines.datasets import active_dataset
from pipelines.resources.warehouse_sql import quote_literal

REGISTRY = "main.dagan_datasets"
REGISTRY_COMMENT = (
    "One row per warehouse namespace: the dataset whose rows, metrics and marts it holds "
    "(namespace '' is the plain schemas synthetic, metrics, marts)."
)

REGISTRY_COLUMNS = {
    "namespace": "Warehouse namespace: suffix of the schemas synthetic_<namespace>, "
    "metrics_<namespace>, marts_<namespace> ('' for the plain schemas).",
    "dataset": "Name of the dataset (its dataset.yaml) that owns the namespace.",
    "label": "The label column of the dataset (its contract's meta.label).",
    "columns": "The dataset's contract columns, as a JSON list in contract order.",
}


def _ensure_registry(con: Any) -> None:
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {REGISTRY} (namespace VARCHAR PRIMARY KEY, "
        "dataset VARCHAR, label VARCHAR, columns VARCHAR)"
    )
    con.execute(f"COMMENT ON TABLE {REGISTRY} IS {quote_literal(REGISTRY_COMMENT)}")
    for column, text in REGISTRY_COLUMNS.items():
        con.execute(f"COMMENT ON COLUMN {REGISTRY}.{column} IS {quote_literal(text)}")


def claim_namespace(con: Any) -> None:
    """Record (or confirm) that the selected dataset owns its namespace, on a write connection.

    Raises:
        ValueError: the namespace holds another dataset's tables (its name, label and the
            columns that differ are named).
    """
    dataset = active_dataset()
    spec = contract_spec()
    columns = spec.columns
    _ensure_registry(con)
    row = con.execute(
        f"SELECT dataset, label, columns FROM {REGISTRY} WHERE namespace = ?", [dataset.namespace]
    ).fetchone()
    if row is None:
        con.execute(
            f"INSERT INTO {REGISTRY} VALUES (?, ?, ?, ?)",
            [dataset.namespace, dataset.name, spec.label, json.dumps(columns)],
        )
        return
    owner, label, owner_columns = row[0], row[1], json.loads(row[2])
    if label == spec.label and owner_columns == columns:
        return
    only_owner = [c for c in owner_columns if c not in columns]
    only_new = [c for c in columns if c not in owner_columns]
    where = dataset.schema("synthetic")
    raise ValueError(
        f"warehouse namespace {dataset.namespace!r} ({where}.rows) holds dataset {owner!r} "
        f"(label {label!r}); dataset {dataset.name!r} (label {spec.label!r}, contract "
        f"{spec.path}) differs: columns only in {owner!r}: {only_owner or 'none'}, only in "
        f"{dataset.name!r}: {only_new or 'none'}. Give it its own namespace in {dataset.file}"
    )
