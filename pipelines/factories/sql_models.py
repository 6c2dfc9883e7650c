"""dbt-like SQL models: one ``.sql`` file = one DuckDB table = one Dagster asset.

Conventions (see dbt_like_sql/README.md):

- ``dbt_like_sql/<layer>/<table>.sql`` builds the table ``<layer>.<table>`` in the warehouse; its
  asset key is ``[<layer>, <table>]``.
- A file holds exactly one ``SELECT`` (``WITH`` allowed); the factory wraps it in
  ``CREATE OR REPLACE TABLE``. Header lines ``-- comment: ...`` become the table COMMENT.
- Lines ``-- column: <name> (<type>): <description>`` document the output columns: they become
  the asset's column schema and the columns' COMMENTs. A model that documents its columns must
  document exactly the columns it builds (checked when it is built; the table is not published
  otherwise); a type that differs from the built one is logged as a warning.
- Dependencies are inferred with sqlglot from the tables the query reads: another model's table
  maps to that model's asset; other warehouse tables map through ``sources`` (exact
  ``schema.table`` first, then ``schema.*``). Reading anything else is an error at load time, and
  so is reading files (``read_csv``/``read_parquet``/...): models see only the warehouse.
- ``code_version`` is the SHA-256 of the file, so editing a model marks it changed in the UI.
"""

import dataclasses
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import sqlglot
from sqlglot import exp

from pipelines.metadata import md_table
from pipelines.resources.warehouse import Warehouse
from pipelines.resources.warehouse_sql import table_columns
from pipelines.resources.warehouse_writer import WarehouseWriter

_COMMENT = re.compile(r"^\s*--\s*comment:\s?(.*)$", re.IGNORECASE)
_COLUMN = re.compile(
    r"^\s*--\s*column:\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(([^)]*)\)\s*:\s*(.+?)\s*$",
    re.IGNORECASE,
)
_COLUMN_LINE = re.compile(r"^\s*--\s*column:", re.IGNORECASE)
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class SqlModelError(ValueError):
    """A SQL model file breaks the conventions; the message names the file."""


@dataclass(frozen=True)
class SqlModel:
    """One parsed SQL model file."""

    path: Path
    schema: str
    table: str
    sql: str
    comment: str | None
    reads: tuple[str, ...]  # "schema.table" names the query reads, sorted
    columns: tuple[tuple[str, str, str], ...] = ()  # documented (name, type, description)

    @property
    def name(self) -> str:
        """``schema.table`` of the table the model builds."""
        return f"{self.schema}.{self.table}"

    @property
    def asset_key(self) -> dg.AssetKey:
        """``[layer, table]``."""
        return dg.AssetKey([self.schema, self.table])

    @property
    def column_comments(self) -> dict[str, str]:
        """Documented column name -> description."""
        return {name: text for name, _, text in self.columns}

    def column_schema(self) -> dg.TableSchema | None:
        """The documented columns as a ``dg.TableSchema`` (None when none are documented)."""
        if not self.columns:
            return None
        return dg.TableSchema(
            columns=[dg.TableColumn(n, t, description=d) for n, t, d in self.columns]
        )

    @property
    def code_version(self) -> str:
        """SHA-256 of the file's text."""
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def header_comment(sql: str) -> str | None:
    """Join the ``-- comment:`` lines of a file (None when there are none)."""
    parts = [m.group(1).strip() for line in sql.splitlines() if (m := _COMMENT.match(line))]
    return " ".join(p for p in parts if p) or None


def column_lines(sql: str, *, source: str = "<sql>") -> tuple[tuple[str, str, str], ...]:
    """The ``-- column: name (type): description`` lines of a file, in order.

    Raises:
        SqlModelError: a ``-- column:`` line that does not parse, or a column named twice.
    """
    out: list[tuple[str, str, str]] = []
    for number, line in enumerate(sql.splitlines(), start=1):
        if not _COLUMN_LINE.match(line):
            continue
        match = _COLUMN.match(line)
        if not match:
            raise SqlModelError(
                f"{source}:{number}: expected '-- column: <name> (<type>): <description>'"
            )
        name, type_name, text = match.group(1), match.group(2).strip(), match.group(3)
        if name in {c[0] for c in out}:
            raise SqlModelError(f"{source}:{number}: column {name!r} is documented twice")
        out.append((name, type_name.upper(), text))
    return tuple(out)


def check_columns(model: SqlModel, built: list[tuple[str, str]]) -> list[str]:
    """Compare a built table's ``(name, type)`` columns with the model's documented ones.

    Returns one message per type that differs (a warning).

    Raises:
        SqlModelError: when the model documents columns and the built ones differ in name.
    """
    if not model.columns:
        return []
    documented = {n: t for n, t, _ in model.columns}
    names = [n for n, _ in built]
    missing = [n for n in names if n not in documented]
    extra = [n for n in documented if n not in names]
    if missing or extra:
        raise SqlModelError(
            f"{model.schema}/{model.path.name}: the '-- column:' lines do not match the built "
            f"table {model.name}: undocumented {missing}, documented but not built {extra}"
        )
    return [
        f"{model.name}.{n}: documented as {documented[n]} but built as {t}"
        for n, t in built
        if documented[n] != str(t).upper()
    ]


def tables_read(sql: str, *, source: str = "<sql>") -> tuple[str, ...]:
    """``schema.table`` names a single SELECT reads (CTE names excluded; bare names → ``main``).

    Raises:
        SqlModelError: if the text is not exactly one SELECT, or reads files.
    """
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except sqlglot.errors.ParseError as err:
        raise SqlModelError(f"{source}: cannot parse SQL: {err}") from err
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise SqlModelError(f"{source}: a model must be exactly one SELECT statement")
    tree = statements[0]
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    names = {_read_name(table, ctes, source) for table in tree.find_all(exp.Table)}
    return tuple(sorted(n for n in names if n is not None))


def _read_name(table: exp.Table, ctes: set[str], source: str) -> str | None:
    """``schema.table`` a table reference reads; None for a CTE or a table function.

    Raises:
        SqlModelError: for a file reader (``read_*``, a quoted path) or a catalog-qualified name.
    """
    if not isinstance(table.this, exp.Identifier):
        func = table.this.sql(dialect="duckdb").split("(")[0].lower()
        if func.startswith("read_") or isinstance(table.this, exp.Literal):
            raise SqlModelError(f"{source}: models may read warehouse tables only, not {func}")
        return None  # range(), unnest() and other table functions
    if table.catalog:
        raise SqlModelError(f"{source}: catalog-qualified table {table.sql()} is not allowed")
    name, schema = table.name.lower(), (table.db or "").lower()
    if not schema and name in ctes:
        return None
    return f"{schema or 'main'}.{name}"


def load_sql_model(path: Path, root: Path) -> SqlModel:
    """Parse one model file under ``root``."""
    rel = path.relative_to(root)
    if len(rel.parts) != 2:
        raise SqlModelError(f"{rel}: models live exactly one folder deep: <layer>/<table>.sql")
    schema, table = rel.parts[0], path.stem
    for part in (schema, table):
        if not _NAME.match(part):
            raise SqlModelError(f"{rel}: {part!r} is not a valid lower-case identifier")
    sql = path.read_text(encoding="utf-8")
    return SqlModel(
        path=path,
        schema=schema,
        table=table,
        sql=sql,
        comment=header_comment(sql),
        reads=tables_read(sql, source=str(rel)),
        columns=column_lines(sql, source=str(rel)),
    )


def discover_sql_models(root: Path) -> list[SqlModel]:
    """Every model under ``root`` (sorted by path)."""
    return [load_sql_model(p, root) for p in sorted(root.glob("*/*.sql"))]


def in_schemas(model: SqlModel, schemas: Mapping[str, str]) -> SqlModel:
    """``model`` moved to other warehouse schemas: ``schemas`` maps a schema name the file uses
    (``marts``, ``metrics``, ...) to the one to build in and read from instead (a dataset's
    namespace); the query is rewritten with sqlglot. Unchanged when nothing maps."""
    used = {model.schema, *(name.split(".")[0] for name in model.reads)}
    if all(schemas.get(s, s) == s for s in used):
        return model
    tree = sqlglot.parse_one(model.sql, read="duckdb")
    for table in tree.find_all(exp.Table):
        if table.db and table.db.lower() in schemas:
            table.set("db", exp.to_identifier(schemas[table.db.lower()]))
    sql = tree.sql(dialect="duckdb", pretty=True)
    return dataclasses.replace(
        model,
        schema=schemas.get(model.schema, model.schema),
        sql=sql,
        reads=tables_read(sql, source=str(model.path)),
    )


def resolve_upstream(
    table: str, models: Mapping[str, SqlModel], sources: Mapping[str, dg.AssetKey]
) -> dg.AssetKey | None:
    """Asset that produces ``schema.table``: a model, an exact source, or a ``schema.*`` source."""
    if table in models:
        return models[table].asset_key
    if table in sources:
        return sources[table]
    return sources.get(table.split(".")[0] + ".*")


def build_sql_model_assets(
    root: Path,
    sources: Mapping[str, dg.AssetKey],
    *,
    group_name: str = "analytics",
    schemas: Mapping[str, str] | None = None,
) -> list[dg.AssetsDefinition]:
    """One unpartitioned asset per SQL file under ``root``.

    Args:
        root: the dbt_like_sql folder.
        sources: ``"schema.table"`` or ``"schema.*"`` → the asset that writes that table.
        group_name: Dagster group of the assets.
        schemas: schema the files name -> schema to use instead (see :func:`in_schemas`); the
            sources are then named by the schemas used.

    Raises:
        SqlModelError: on a malformed file, a duplicate table, a dependency cycle, or a table
            that neither a model nor a source produces.
    """
    models = {
        m.name: m for m in (in_schemas(m, schemas or {}) for m in discover_sql_models(root))
    }
    assets = []
    for model in models.values():
        deps = []
        for table in model.reads:
            if table == model.name:
                raise SqlModelError(f"{model.path.name}: a model cannot read its own table")
            key = resolve_upstream(table, models, sources)
            if key is None:
                known = sorted({*models, *sources})
                raise SqlModelError(
                    f"{model.schema}/{model.path.name}: reads {table}, which no model or pipeline "
                    f"asset writes (known: {', '.join(known)})"
                )
            # Upstream pipeline tables are partitioned by model version; a model reads them whole.
            deps.append(dg.AssetDep(key, partition_mapping=dg.AllPartitionMapping()))
        assets.append(_sql_asset(model, deps, group_name))
    return assets


def build_model(w: WarehouseWriter, model: SqlModel, warn: Callable[[str], object]) -> int:
    """Inside a write cycle: build one model's table with its COMMENTs; returns its row count.

    Raises:
        SqlModelError: when the built columns differ from the documented ones.
    """
    rows = w.create_table_as(model.table, model.sql, model.schema, model.comment)
    built = table_columns(w.con, model.table, model.schema, ("column_name", "data_type"))
    for warning in check_columns(model, built):
        warn(warning)
    undocumented = w.comment_columns(model.table, model.column_comments, model.schema)
    if undocumented:
        warn(f"{model.name}: columns without a description: {undocumented}")
    return rows


def _sql_asset(model: SqlModel, deps: list[dg.AssetDep], group_name: str) -> dg.AssetsDefinition:
    metadata: dict[str, object] = {
        "sql_file": dg.MetadataValue.path(str(model.path)),
        "dagster/table_name": model.name,
    }
    schema = model.column_schema()
    if schema is not None:
        metadata["dagster/column_schema"] = schema

    @dg.asset(
        key=model.asset_key,
        deps=deps,
        group_name=group_name,
        code_version=model.code_version,
        description=model.comment or f"SQL model {model.schema}/{model.path.name}",
        kinds={"duckdb", "sql"},
        owners=["team:analytics"],
        tags={"privacy": "shared"},
        metadata=metadata,
    )
    def _build(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        rows = warehouse.publish(lambda w: build_model(w, model, context.log.warning))
        context.log.info(f"built {model.name}: {rows} rows")
        return dg.MaterializeResult(
            value=model.name,
            metadata={
                "dagster/row_count": rows,
                "dagster/column_schema": warehouse.table_schema(model.table, model.schema),
                "sql": dg.MetadataValue.md(f"```sql\n{model.sql.strip()}\n```"),
                "preview": md_table(warehouse.preview(model.table, model.schema), max_rows=20),
            },
        )

    return _build
