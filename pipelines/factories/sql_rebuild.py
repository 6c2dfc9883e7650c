"""Rebuilding every SQL model of ``dbt_like_sql/`` inside one warehouse write cycle (the
evaluation publishes a model version's rows, metrics and SQL models together)."""

from collections.abc import Callable, Mapping
from pathlib import Path

from pipelines.factories.sql_models import (
    SqlModelError,
    build_model,
    discover_sql_models,
    in_schemas,
)
from pipelines.resources.warehouse_sql import table_columns
from pipelines.resources.warehouse_writer import WarehouseWriter


def build_all_models(
    w: WarehouseWriter, root: Path, warn: Callable[[str], object],
    schemas: Mapping[str, str] | None = None,
) -> dict[str, int]:
    """Inside a write cycle: rebuild every model under ``root``, each after the models it reads,
    in ``schemas`` (see :func:`in_schemas`); returns ``schema.table`` -> rows. A model whose
    source tables do not exist yet is skipped."""
    models = {m.name: m for m in (in_schemas(x, schemas or {})
                                  for x in discover_sql_models(root))}
    built: dict[str, int] = {}
    pending = dict(models)
    while pending:
        ready = [m for m in pending.values()
                 if not any(r in pending and r != m.name for r in m.reads)]
        if not ready:
            raise SqlModelError(f"{root}: models read each other in a circle: {sorted(pending)}")
        for model in ready:
            del pending[model.name]
            if all(r in built if r in models else _exists(w, r) for r in model.reads):
                built[model.name] = build_model(w, model, warn)
    return built


def _exists(w: WarehouseWriter, name: str) -> bool:
    schema, _, table = name.partition(".")
    return bool(table_columns(w.con, table, schema))
