"""``pilot sql "SELECT ..."``: run one Hive SQL statement and print a readable table (or CSV)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from pilot.settings import get_settings

DESCRIPTION = """\
Run one statement on the Hive SQL endpoint (Spark Thrift Server) and print the result as a table,
or as CSV with --csv. The same statement runs in beeline:
  $SPARK_HOME/bin/beeline -u jdbc:hive2://127.0.0.1:10000 -n pilot -e "SELECT ..."
(SPARK_HOME is the pyspark package folder of .venv).

example:
  pilot sql "SELECT car_number, checks FROM managed_smartcar_emergency_check_info WHERE biz_date = '20200322'"
"""


def _run(args: argparse.Namespace) -> int:
    from marts.hive import HiveSession
    from marts.textable import format_csv, format_table

    statement = args.statement.strip().rstrip(";").strip()
    if not statement:
        print("error: empty statement", file=sys.stderr)
        return 2
    settings = get_settings()
    started = time.perf_counter()
    session = HiveSession(settings)
    try:
        database = args.database or settings.hive_database
        if database != "default":
            from pilot.sql_values import SqlIdentifier

            session.execute(f"USE {SqlIdentifier(database).render()}")
        limit = None if args.csv else args.max_rows + 1
        result = session.query(statement, limit)
    finally:
        session.close()
    rows = result.rows
    if args.csv:
        sys.stdout.write(format_csv(result.columns, rows))
        return 0
    truncated = len(rows) > args.max_rows
    rows = rows[: args.max_rows]
    if result.columns:
        print(format_table(result.columns, rows))
    more = f" (first {args.max_rows} shown; use --csv for all)" if truncated else ""
    print(f"{len(rows)} row(s){more} in {time.perf_counter() - started:.2f} s")
    return 0


def register(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "sql", help="run a Hive SQL query on the marts and print the result", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("statement", help="one HiveQL statement, quoted")
    parser.add_argument("--csv", action="store_true", help="print CSV (all rows) instead of a table")
    parser.add_argument("--max-rows", type=int, default=1000, help="rows shown in table mode (default 1000)")
    parser.add_argument("--database", help="Hive database to USE first (default: settings hive_database)")
    parser.set_defaults(func=_run)
    return parser
