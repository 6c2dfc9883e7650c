"""A read-only SQL shell on the warehouse (the duckdb CLI is not required).

    .venv/bin/python scripts/sql_shell.py                    # interactive; end statements with ;
    .venv/bin/python scripts/sql_shell.py -c "SELECT 1"      # statement(s), ;-separated
    echo "SELECT 1; SELECT 2;" | .venv/bin/python scripts/sql_shell.py     # statements from stdin
    make sql Q="SELECT * FROM marts.utility_leaderboard"

Commands: ``.tables`` (tables with their comments), ``.describe schema.table`` (columns, types
and comments), ``.reconnect`` (see newly published data), ``.quit``.

The file is attached read-only: the pipeline can publish meanwhile (each publish writes a new
file and moves the warehouse link onto it); this session keeps the snapshot it opened until it
reconnects. A published file that someone opened read-write is set aside (and named in a warning)
before the session starts. A failing statement prints ``error: ...`` and,
outside the interactive mode, makes the exit status 1.
"""

import argparse
import sys

import duckdb
import pandas as pd

from pipelines import settings
from pipelines.resources.warehouse import Warehouse

HELP = ".tables  .describe schema.table  .reconnect  .quit   (statements end with ;)\n"
TABLES = (
    "SELECT schema_name AS schema, table_name AS table, estimated_size AS rows, comment "
    "FROM duckdb_tables() WHERE database_name = current_database() ORDER BY 1, 2"
)
DESCRIBE = (
    "SELECT column_name AS column, data_type AS type, comment FROM duckdb_columns() "
    "WHERE database_name = current_database() AND schema_name = ? AND table_name = ? "
    "ORDER BY column_index"
)


def connect(path: str) -> duckdb.DuckDBPyConnection:
    """A read-only connection on the current published snapshot of the warehouse."""
    return Warehouse(path=path).read_only_connection()


def show(frame: pd.DataFrame) -> None:
    """Write a result table to stdout."""
    with pd.option_context("display.max_rows", 500, "display.width", 250,
                           "display.max_columns", 50, "display.max_colwidth", 120):
        sys.stdout.write(frame.to_string(index=False) + "\n")


def run(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> bool:
    """Execute statement(s) and write each result to stdout; False if one failed."""
    try:
        statements = con.extract_statements(sql) if params is None else [sql]
        for statement in statements:
            cur = con.execute(statement, params) if params is not None else con.execute(statement)
            if cur.description:
                show(cur.df())
        return True
    except duckdb.Error as err:
        sys.stdout.write(f"error: {err}\n")
        return False


def dot_command(con: duckdb.DuckDBPyConnection, line: str) -> bool:
    """``.tables`` / ``.describe schema.table``; False for an unknown command or a failure."""
    name, _, arg = line.strip().partition(" ")
    if name == ".tables":
        return run(con, TABLES)
    if name == ".describe" and arg.strip():
        schema, _, table = arg.strip().rstrip(";").rpartition(".")
        return run(con, DESCRIBE, [schema or "main", table])
    sys.stdout.write(f"unknown command {line.strip()!r}\n{HELP}")
    return False


def batch(con: duckdb.DuckDBPyConnection, text: str) -> int:
    """Run a script (dot commands on their own lines, SQL statements between them)."""
    ok, sql = True, []
    for line in text.splitlines():
        if not sql and line.strip().startswith("."):
            ok = dot_command(con, line) and ok
        else:
            sql.append(line)
    if "\n".join(sql).strip():
        ok = run(con, "\n".join(sql)) and ok
    return 0 if ok else 1


def interactive(con: duckdb.DuckDBPyConnection, path: str) -> int:
    sys.stdout.write(f"{path} (read-only)\n{HELP}")
    buffer: list[str] = []
    while True:
        try:
            line = input("dagan> " if not buffer else "  ...> ")
        except EOFError:
            return 0
        stripped = line.strip()
        if not buffer and stripped in (".quit", ".exit"):
            return 0
        if not buffer and stripped == ".reconnect":
            con.close()
            con = connect(path)
            continue
        if not buffer and stripped.startswith("."):
            dot_command(con, stripped)
            continue
        buffer.append(line)
        if stripped.endswith(";"):
            run(con, "\n".join(buffer))
            buffer = []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("-c", "--command", help="run these statements (or a dot command), exit")
    parser.add_argument("--path", default=str(settings.warehouse_path()), help="DuckDB file")
    args = parser.parse_args(argv)
    try:
        con = connect(args.path)
    except (duckdb.Error, FileNotFoundError) as err:
        sys.stderr.write(f"cannot open {args.path} read-only: {err}\n(run `make demo` first)\n")
        return 1
    with con:
        if args.command:
            return batch(con, args.command)
        if not sys.stdin.isatty():
            return batch(con, sys.stdin.read())
        return interactive(con, args.path)


if __name__ == "__main__":
    sys.exit(main())
