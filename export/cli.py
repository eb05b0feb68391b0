"""``pilot export``: copy a mart partition into a typed PostgreSQL table, like ``sqoop export``."""

from __future__ import annotations

import argparse
from typing import Any

from marts.catalog import MARTS

DESCRIPTION = """\
Export one partition of a Hive mart into PostgreSQL (database `pilot` by default), as Sqoop export
did: N worker processes read the partition's files straight from HDFS (WebHDFS) in parallel splits
(byte ranges aligned to lines) and check and convert every value against the target's column
types; their rows stream through one COPY into a staging table, and in the SAME transaction the
business date is swapped in (or upserted with --update-key) and the target's row count and
checksum are compared with what was read before the commit. Reruns leave exactly one copy. A row
that does not convert stops the export before the target is touched (file and line are reported),
unless --skip-bad-rows.

The target is created from sql/postgres/<mart>.sql if it does not exist.

marts and their default targets:
""" + "\n".join(f"  {m.alias:<10} {m.name:<40} public.{m.name.removeprefix('managed_')}" for m in MARTS) + """

examples:
  pilot export --table symptom --biz-date 20200322 --target public.smartcar_symptom_info
  pilot export --table drive --biz-date 20200322 --splits 4
  pilot export --table symptom --biz-date 20200322 --update-key biz_date,car_number
  pilot export --table status --biz-date 20200322 --columns reg_date,car_number,battery \\
      --target analytics.battery_log
"""


def _run(args: argparse.Namespace) -> int:
    from export.plan import ExportRequest
    from export.runner import run_export

    request = ExportRequest(
        mart=args.table, target=args.target, biz_date=args.biz_date, update_key=args.update_key,
        columns=args.columns, splits=args.splits, skip_bad_rows=args.skip_bad_rows,
        export_dir=args.export_dir, database=args.database,
    )
    run_export(request)
    return 0


def register(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "export", help="export a mart partition to PostgreSQL (Sqoop export)", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--table", required=True, metavar="MART", help="mart name or alias")
    parser.add_argument("--biz-date", metavar="D",
                        help="business date yyyyMMdd (yyyyMM or a day of the month for the purchase mart); "
                             "default: the latest partition")
    parser.add_argument("--target", metavar="SCHEMA.TABLE", help="target table (default: see above)")
    parser.add_argument("--update-key", metavar="COLS",
                        help="upsert on these columns (a primary key or unique index of the target)")
    parser.add_argument("--columns", metavar="COLS", help="export only these mart columns")
    parser.add_argument("--splits", type=int, default=4, help="parallel splits (default 4)")
    parser.add_argument("--skip-bad-rows", action="store_true",
                        help="skip rows that do not convert (reported) instead of failing")
    parser.add_argument("--export-dir", metavar="HDFS_DIR",
                        help="read the files of this HDFS folder instead of the partition's location")
    parser.add_argument("--database", help="Hive database of the marts (default: settings hive_database)")
    parser.set_defaults(func=_run)
    return parser
