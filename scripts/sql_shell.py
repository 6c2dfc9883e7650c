"""A read-only SQL shell on the warehouse (the duckdb CLI is not required).

    .venv/bin/python scripts/sql_shell.py                  # interactive; end statements with ;
    .venv/bin/python scripts/sql_shell.py -c "SELECT 1"    # one query

The file is opened with ``read_only=True``: the pipeline can publish meanwhile (copy-on-write);
this session keeps the snapshot it opened until it reconnects (``.reconnect``).
"""

import argparse
import sys

import duckdb
import pandas as pd

from pipelines import settings

HELP = ".tables  .reconnect  .quit   (statements end with ;)\n"


def connect(path: str) -> duckdb.DuckDBPyConnection:
    """A read-only connection on the published warehouse."""
    return duckdb.connect(path, read_only=True)


def run(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Execute one statement and write its result (if any) to stdout."""
    try:
        cur = con.execute(sql)
        if cur.description:
            with pd.option_context("display.max_rows", 200, "display.width", 200):
                sys.stdout.write(cur.df().to_string(index=False) + "\n")
    except duckdb.Error as err:
        sys.stdout.write(f"error: {err}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-c", "--command", help="run one statement and exit")
    parser.add_argument("--path", default=str(settings.warehouse_path()), help="DuckDB file")
    args = parser.parse_args(argv)
    try:
        con = connect(args.path)
    except duckdb.Error as err:
        sys.stderr.write(f"cannot open {args.path} read-only: {err}\n(run `make demo` first)\n")
        return 1
    if args.command:
        run(con, args.command)
        return 0
    sys.stdout.write(f"{args.path} (read-only)\n{HELP}")
    buffer: list[str] = []
    while True:
        try:
            line = input("dagan> " if not buffer else "  ...> ")
        except EOFError:
            return 0
        stripped = line.strip()
        if not buffer and stripped in (".quit", ".exit"):
            return 0
        if not buffer and stripped == ".tables":
            run(con, "SELECT schema_name AS schema, table_name AS table, estimated_size AS rows, "
                     "left(comment, 70) AS comment FROM duckdb_tables() ORDER BY 1, 2")
            continue
        if not buffer and stripped == ".reconnect":
            con.close()
            con = connect(args.path)
            continue
        buffer.append(line)
        if stripped.endswith(";"):
            run(con, "\n".join(buffer))
            buffer = []


if __name__ == "__main__":
    sys.exit(main())
