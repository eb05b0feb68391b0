"""Benchmark: `pilot export` of the biggest mart next to `psql \\copy` and pandas `to_sql`.

Exports the driving mart of the 100-car day (4.1 M rows; built by bench_marts.py into Hive database
``pilot_bench`` if it is not there yet) into PostgreSQL with the exporter (WebHDFS, parallel
splits, validation, COPY into staging, keys, partition swap and checksum verification), and in
the same run loads the same rows, downloaded once to a local file, with ``psql \\copy`` (the
physical reference) into a table with the same DDL and into a bare heap, and a sample with pandas
``DataFrame.to_sql`` (what people write by hand). Replaces the ``## Export`` section of
BENCHMARKS.md.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg2
from hdfs import InsecureClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bench_marts  # noqa: E402
from report import add_report_options, command_line, publish  # noqa: E402 - bench/ is the script's folder

from export import ExportRequest, run_export  # noqa: E402
from export.target import TargetName, ddl  # noqa: E402
from marts import runner  # noqa: E402
from marts.catalog import get_mart  # noqa: E402
from marts.hive import hive_session  # noqa: E402
from pilot.settings import get_settings  # noqa: E402
from tests.support.devdata import config_for_root, upload_layout  # noqa: E402

SECTION = "## Export"
SCHEMA = "bench_export"
MART = get_mart("drive")


def ensure_mart(date: str, work: Path) -> None:
    from export.source import MissingSource, describe_partition

    settings = get_settings()
    with hive_session(settings) as hive:
        try:
            describe_partition(hive, bench_marts.DATABASE, MART, date)
            return
        except MissingSource:
            pass
    print("building the drive mart of the 100-car day first ...", flush=True)
    layout = bench_marts.prepare(work, date, 100, 42)
    client = InsecureClient(settings.webhdfs_url, user=settings.hdfs_user)
    config = config_for_root(bench_marts.HDFS_ROOT, database=bench_marts.DATABASE)
    client.delete(bench_marts.HDFS_ROOT.rsplit("/", 1)[0], recursive=True)
    upload_layout(client, layout, config)
    runner.build_marts(date, [MART.name], config=config, hdfs_client=client, run_gates=False)


def download(date: str, out: Path) -> tuple[Path, int, list[str]]:
    """The partition's files concatenated into one local file; (path, bytes, data columns)."""
    settings = get_settings()
    client = InsecureClient(settings.webhdfs_url, user=settings.hdfs_user)
    with hive_session(settings) as hive:
        from export.source import describe_partition

        columns, location = describe_partition(hive, bench_marts.DATABASE, MART, date)
    out.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    with out.open("wb") as handle:
        for name in sorted(client.list(location)):
            if name.startswith(("_", ".")):
                continue
            with client.read(f"{location}/{name}", chunk_size=1 << 20) as reader:
                for chunk in reader:
                    handle.write(chunk)
                    size += len(chunk)
    return out, size, columns


def sql(statement: Any) -> None:
    with psycopg2.connect(get_settings().postgres_dsn) as conn, conn.cursor() as cur:
        cur.execute(statement)


def create_tables(date: str) -> None:
    iso = f"{date[:4]}-{date[4:6]}-{date[6:]}"
    sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    sql(f"CREATE SCHEMA {SCHEMA}")
    sql(ddl(MART, TargetName(SCHEMA, "drive_copy")))
    sql(f"ALTER TABLE {SCHEMA}.drive_copy ALTER COLUMN biz_date SET DEFAULT '{iso}'")
    sql(f"CREATE TABLE {SCHEMA}.drive_copy_{date} PARTITION OF {SCHEMA}.drive_copy FOR VALUES IN ('{iso}')")
    sql(f"CREATE TABLE {SCHEMA}.drive_heap (LIKE {SCHEMA}.drive_copy INCLUDING DEFAULTS)")
    sql(f"CREATE TABLE {SCHEMA}.drive_pandas (LIKE {SCHEMA}.drive_copy INCLUDING DEFAULTS)")


def psql_copy(table: str, columns: list[str], path: Path) -> float:
    settings = get_settings()
    sql(f"TRUNCATE {SCHEMA}.{table}")
    command = [
        "psql",
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        settings.postgres_host,
        "-p",
        str(settings.postgres_port),
        "-U",
        settings.postgres_user,
        "-d",
        settings.postgres_db,
        "-c",
        f"\\copy {SCHEMA}.{table} ({', '.join(columns)}) FROM '{path}'",
    ]
    started = time.perf_counter()
    subprocess.run(command, check=True, env={**os.environ, "PGPASSWORD": settings.postgres_password})
    return time.perf_counter() - started


def pilot_export(date: str, splits: int) -> tuple[float, Any]:
    request = ExportRequest(
        mart=MART.name,
        biz_date=date,
        target=f"{SCHEMA}.drive_pilot",
        splits=splits,
        database=bench_marts.DATABASE,
    )
    started = time.perf_counter()
    result = run_export(request, log=lambda line: print("   ", line, flush=True))
    return time.perf_counter() - started, result


def pandas_to_sql(path: Path, columns: list[str], rows: int, date: str, method: str | None) -> float:
    from sqlalchemy import create_engine

    settings = get_settings()
    frame = pd.read_csv(
        path,
        sep="\t",
        header=None,
        names=columns,
        nrows=rows,
        na_values=["\\N"],
        keep_default_na=False,
        dtype={"r_date": str},
    )
    frame["biz_date"] = dt.date(int(date[:4]), int(date[4:6]), int(date[6:]))
    sql(f"TRUNCATE {SCHEMA}.drive_pandas")
    engine = create_engine(settings.postgres_dsn.replace("postgresql://", "postgresql+psycopg2://"))
    started = time.perf_counter()
    frame.to_sql(
        "drive_pandas",
        engine,
        schema=SCHEMA,
        if_exists="append",
        index=False,
        method=method,
        chunksize=1000 if method else None,
    )
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds


def machine() -> str:
    with psycopg2.connect(get_settings().postgres_dsn) as conn, conn.cursor() as cur:
        cur.execute("SHOW server_version")
        version = cur.fetchone()[0]
    return (
        f"{os.cpu_count()} CPUs shared with the whole stack, Python {platform.python_version()}, "
        f"PostgreSQL {version} (wal_level minimal, synchronous_commit off), pandas {pd.__version__}"
    )


def render(
    rows: list[dict[str, Any]], total_rows: int, size: int, splits: int, result: Any, repeat: int
) -> str:
    ours = next(r for r in rows if r["key"] == "pilot")
    copy = next(r for r in rows if r["key"] == "copy")
    heap = next(r for r in rows if r["key"] == "heap")
    pandas = next(r for r in rows if r["key"] == "pandas")
    lines = [
        SECTION,
        "",
        f"`python bench/bench_export.py` on {dt.date.today().isoformat()}; {machine()}. Source: the driving "
        f"mart of the 100-car day ({total_rows:,} rows, {size / 1e6:.0f} MB of Hive text in HDFS). Best of "
        f"{repeat}, runs interleaved.",
        "",
        "| load | rows | s | rows/s | vs `\\copy` (same DDL) | how |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['what']} | {row['rows']:,} | {row['seconds']:.1f} | {row['rate']:,.0f} | "
            f"{row['rate'] / copy['rate']:.2f} | {row['how']} |"
        )
    phases = ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items())
    goal_copy = ours["rate"] / copy["rate"]
    goal_pandas = ours["rate"] / pandas["rate"]
    lines += [
        "",
        f"Goals: at least 70 % of `\\copy` — **{goal_copy:.0%}** of `\\copy` into the same partitioned, "
        f"keyed table ({ours['rate'] / heap['rate']:.0%} of `\\copy` into a bare heap without key); at "
        f"least 5 x pandas `to_sql` — **{goal_pandas:.0f} x**.",
        "",
        f"Where the exporter's time goes (last run): {phases}; checksum: {result.checksum_kind}. "
        "`source` asks Hive for the columns and the partition location and lists the files. `copy`: "
        f"{splits} worker processes read byte ranges of the files (aligned to lines) through WebHDFS, "
        "validate every value against the target's types (one regular-expression pass per 1 MB chunk "
        "when the text is already canonical, value-by-value conversion otherwise) and hash every row; "
        "the coordinator streams their chunks into ONE `COPY ... FREEZE` into a staging table created "
        "in the same transaction (so, with `wal_level=minimal`, no WAL and no later hint-bit pass). "
        "`keys` builds the primary key on the staging table and ANALYZEs it. `swap` drops the old "
        "partition, attaches the staging table as the date's partition and compares row count and "
        "checksum computed by PostgreSQL over the target partition with what was read - all in the "
        "same single transaction, so any failure leaves the target untouched. The checksum is the sum "
        "of PostgreSQL's `hashtextextended()` of each row's canonical text, reimplemented with numpy "
        "on the Python side (MD5 is the fallback when the server's hash differs, e.g. big-endian); "
        "with MD5 in SQL the verification cost about twice as much server CPU. `\\copy` only parses "
        "and inserts (maintaining the primary key row by row); it neither validates against a staging "
        "area, nor swaps atomically, nor verifies. pandas `to_sql` (SQLAlchemy + psycopg2 "
        "executemany) was timed on a sample of the same rows, after `read_csv`. The machine is shared "
        "with other sessions' work; figures move by 20-30 % between runs.",
        "",
        "What was tried first: each split COPYing into the staging table over its own connection "
        "(one transaction each) and an MD5 checksum in SQL. The COPY itself was no faster, but four "
        "interleaved transaction ids made the key build and the first scan (hint bits) about twice as "
        "expensive, and MD5 of 4 M rows cost PostgreSQL 10 CPU-seconds: 0.45-0.66 of `\\copy` on this "
        "machine. One FREEZE COPY fed by parallel workers, `COLLATE \"C\"` on the key columns (a "
        "cheaper index for ASCII codes, also in the `\\copy` table) and the hashtext checksum brought "
        "it to the figure above.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = command_line(__doc__)
    parser.add_argument("--date", default="20200322")
    parser.add_argument("--splits", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--pandas-rows", type=int, default=200_000)
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench" / "marts")
    add_report_options(parser)
    parser.add_argument("--keep", action="store_true", help=f"keep PostgreSQL schema {SCHEMA}")
    args = parser.parse_args()

    ensure_mart(args.date, args.work)
    path, size, columns = download(args.date, ROOT / "var" / "bench" / "export" / "drive_mart.tsv")
    create_tables(args.date)
    best: dict[str, float] = {}
    result = None
    for round_no in range(args.repeat):
        print(f"round {round_no + 1}: pilot export ...", flush=True)
        seconds, result = pilot_export(args.date, args.splits)
        best["pilot"] = min(best.get("pilot", seconds), seconds)
        print(f"round {round_no + 1}: psql \\copy ...", flush=True)
        for key, table in (("copy", "drive_copy"), ("heap", "drive_heap")):
            seconds = psql_copy(table, columns, path)
            best[key] = min(best.get(key, seconds), seconds)
    total = result.rows
    print("pandas to_sql on a sample ...", flush=True)
    pandas_rows = min(args.pandas_rows, total)
    best["pandas"] = pandas_to_sql(path, columns, pandas_rows, args.date, None)
    best["pandas_multi"] = pandas_to_sql(path, columns, pandas_rows, args.date, "multi")
    rows = [
        {
            "key": "pilot",
            "what": f"**pilot export**, {args.splits} splits",
            "rows": total,
            "how": "WebHDFS -> validate -> COPY staging -> primary key -> partition swap + checksum in one "
            "transaction",
        },
        {
            "key": "copy",
            "what": "`psql \\copy`, same DDL",
            "rows": total,
            "how": "local file (downloaded first, not timed) into the partitioned target with its "
            "primary key",
        },
        {
            "key": "heap",
            "what": "`psql \\copy`, bare heap",
            "rows": total,
            "how": "same file into a table with the same columns, no key, no partitions",
        },
        {
            "key": "pandas",
            "what": "pandas `to_sql`",
            "rows": pandas_rows,
            "how": "`df.to_sql(..., if_exists='append', index=False)`: SQLAlchemy executemany",
        },
        {
            "key": "pandas_multi",
            "what": "pandas `to_sql`, method='multi'",
            "rows": pandas_rows,
            "how": "multi-row INSERT, chunksize 1000",
        },
    ]
    for row in rows:
        row["seconds"] = best[row["key"]]
        row["rate"] = row["rows"] / row["seconds"]
    section = render(rows, total, size, args.splits, result, args.repeat)
    publish(section, args)
    if not args.keep:
        sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    return 0


if __name__ == "__main__":
    sys.exit(main())
