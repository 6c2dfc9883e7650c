"""The warehouse table the synthesis asset writes, ``synthetic.rows``: its name, key column,
columns and their descriptions (the shared schema's columns plus ``party`` and
``model_version``)."""

from __future__ import annotations

import dagster as dg

from pipelines.contracts import column_docs

SCHEMA, TABLE, KEY = "synthetic", "rows", "model_version"
COMMENT = (
    "Synthetic rows: the shared schema's columns, the party whose distribution made the row, "
    "and the model_version (model_versions partition) that generated it."
)
#: Columns the pipeline adds to the shared schema.
EXTRA_COLUMNS = {
    "party": (
        "string",
        "Party whose distribution generated the row (the generator is conditioned on the party).",
    ),
    KEY: ("string", "Model version (model_versions partition) whose checkpoint generated the row."),
}


def column_comments() -> dict[str, str]:
    """Column name -> COMMENT text of every column of ``synthetic.rows``."""
    comments = {name: doc.text() for name, doc in column_docs().items()}
    comments.update({name: text for name, (_, text) in EXTRA_COLUMNS.items()})
    return comments


def rows_schema() -> dg.TableSchema:
    """``dg.TableSchema`` of ``synthetic.rows`` as the contract defines it (before any run)."""
    columns = [doc.table_column() for doc in column_docs().values()]
    columns += [dg.TableColumn(n, t, description=d) for n, (t, d) in EXTRA_COLUMNS.items()]
    return dg.TableSchema(columns=columns)
