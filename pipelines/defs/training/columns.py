"""The columns a trained model generates, for the training asset's table schema."""

from __future__ import annotations

import dagster as dg

from pipelines.contracts import column_docs, model_columns


def generated_columns_schema() -> dg.TableSchema:
    """``dg.TableSchema`` of the rows a checkpoint generates: the shared schema's columns (each
    tagged with how the model treats it: label, discrete or continuous) plus ``party``."""
    roles = model_columns()
    columns = []
    for name, doc in column_docs().items():
        role = (
            "label" if name == roles.label
            else "discrete" if name in roles.discrete_columns
            else "continuous"
        )
        column = doc.table_column()
        columns.append(dg.TableColumn(
            column.name, column.type, description=f"{doc.text()} Modelled as {role}.",
            constraints=column.constraints, tags={**column.tags, "role": role},
        ))
    columns.append(dg.TableColumn(
        "party", "string",
        description="Party whose distribution a row is drawn from (the generator's condition).",
        tags={"role": "condition"},
    ))
    return dg.TableSchema(columns=columns)
