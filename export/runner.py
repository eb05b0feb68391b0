"""Export one mart partition to PostgreSQL: parallel splits, one COPY, one transaction, verify.

Everything that touches PostgreSQL happens in ONE transaction of the coordinator's connection:
create the staging table, ``COPY ... FREEZE`` the workers' converted chunks into it (created in
the same transaction, so with ``wal_level=minimal`` it writes no WAL and later scans need no
hint bits), build its keys, then replace the business date in the target and verify. A failure
anywhere rolls everything back: the target is as it was and no staging table is left.

Modes (chosen from the target and the options):

``swap``     the target is LIST-partitioned on the business date (the DDL of ``sql/postgres/``):
             the old partition of the date is dropped and the staging table attached in its place.
``replace``  a plain target: ``DELETE`` the date, ``INSERT ... SELECT`` from staging.
``upsert``   ``--update-key``: ``INSERT ... SELECT ... ON CONFLICT (key) DO UPDATE``.

In every mode the row count and checksum of the target rows are compared with what was read,
before the commit. Rows that do not convert fail the export before the target is touched, unless
``skip_bad_rows``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg2
from psycopg2 import sql

from export import checksum, hiveql
from export import log as export_log
from export import target as tgt
from export.feed import SplitFailed, SplitFeed
from export.plan import ColumnPlan, ExportRequest, ValidRequest, plan_columns, validate
from export.source import Source, resolve_source
from export.splits import plan_splits
from export.stream import READ_CHUNK, BadRow
from export.verify import Tally, checksum_sql, compare, tally
from export.worker import SplitOutcome, SplitTask
from marts.hive import HiveSession, hive_session
from pilot.errors import PilotError, ServiceUnavailable
from pilot.partition_locks import partition_key, partition_lock
from pilot.settings import Settings, get_settings

Log = Callable[[str], None]
SHOWN_BAD_ROWS = 5


class ExportFailed(PilotError):
    """The export stopped; the target is unchanged."""


@dataclass
class ExportResult:
    mart: str
    target: str
    partition: str
    mode: str
    rows: int
    checksum: int
    bytes_read: int
    splits: int
    bad_count: int = 0
    bad: list[BadRow] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    checksum_kind: str = "hashtext"

    @property
    def seconds(self) -> float:
        return sum(self.timings.values())


def latest_partition(hive: HiveSession, request: ValidRequest) -> str:
    mart = request.mart
    db = request.database
    statement = hiveql.list_partitions(db, mart)
    try:
        rows = hive.query(statement).rows
    except PilotError as exc:
        raise ExportFailed(f"mart {db}.{mart.name} does not exist in Hive: {exc}") from None
    values = sorted(str(r[0]).split("=", 1)[1] for r in rows if "=" in str(r[0]))
    if not values:
        raise ExportFailed(f"mart {db}.{mart.name} has no partition yet; run `pilot marts build --date ...`")
    return values[-1]


def _connect(settings: Settings) -> Any:
    try:
        return psycopg2.connect(
            settings.postgres_dsn, connect_timeout=settings.postgres_connect_timeout_seconds,
            options=f"-c statement_timeout={settings.postgres_statement_timeout_seconds * 1000}")
    except psycopg2.OperationalError as exc:
        raise ServiceUnavailable("PostgreSQL", f"{settings.postgres_host}:{settings.postgres_port}",
                                 str(exc).strip().splitlines()[0]) from exc


def _lock(conn: Any, key: str) -> None:
    with conn.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", (key,))
        got = cur.fetchone()[0]
    conn.commit()
    if not got:
        raise ExportFailed(f"another export of {key.split(':', 1)[1]} is running; try again when it ends")


def _line_numbers(client: Any, rows: list[BadRow]) -> None:
    """Fill in 1-based line numbers by counting newlines before each offset (streams file prefixes)."""
    by_file: dict[str, list[BadRow]] = {}
    for row in rows:
        by_file.setdefault(row.path, []).append(row)
    for path, items in by_file.items():
        items.sort(key=lambda r: r.offset)
        position = newlines = 0
        pending = list(items)
        if items[-1].offset > 0:
            with client.read(path, offset=0, length=items[-1].offset, chunk_size=1 << 20) as reader:
                for chunk in reader:
                    while pending and pending[0].offset <= position + len(chunk):
                        item = pending.pop(0)
                        item.line = newlines + chunk.count(b"\n", 0, item.offset - position) + 1
                    newlines += chunk.count(b"\n")
                    position += len(chunk)
        for item in pending:
            item.line = newlines + 1


def _tasks(
    request: ValidRequest, plan: ColumnPlan, source: Source, settings: Settings, checksum: str,
) -> list[SplitTask]:
    return [
        SplitTask(
            index=i, segments=segments, source_columns=source.columns, fields=plan.fields,
            selection=plan.selection, webhdfs_url=settings.webhdfs_url, hdfs_user=settings.hdfs_user,
            skip_bad_rows=request.skip_bad_rows, checksum=checksum,
        )
        for i, segments in enumerate(plan_splits(source.files, request.splits, request.min_split_bytes))
    ]


def _failure(outcome: SplitOutcome, client: Any, where: str) -> ExportFailed:
    if outcome.bad:
        bad = sorted(outcome.bad, key=lambda r: (r.path, r.offset))[:SHOWN_BAD_ROWS]
        _line_numbers(client, bad)
        shown = "; ".join(r.describe() for r in bad)
        return ExportFailed(f"{where}: a row does not convert, nothing was written to the target "
                            f"(rerun with --skip-bad-rows to skip such rows): {shown}")
    return ExportFailed(f"{where}: a split failed, nothing was written to the target: {outcome.error}")


def _copy(cur: Any, target: tgt.Target, stage: str, columns: list[str], feed: SplitFeed) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FREEZE)").format(
        target.name.sibling(stage), sql.SQL(", ").join(map(sql.Identifier, columns)))
    cur.copy_expert(statement, feed, size=READ_CHUNK)


def _swap(cur: Any, target: tgt.Target, plan: ColumnPlan, stage: str, value: str) -> None:
    child = target.name.derived(f"_{value}")
    state = tgt.partition_of(cur.connection, target, child)
    if state is False:
        raise ExportFailed(f"{target.name.schema}.{child} exists but is not a partition of {target.name}")
    cur.execute("SET LOCAL lock_timeout = '60s'")
    if state:
        cur.execute(sql.SQL("DROP TABLE {}").format(target.name.sibling(child)))
    cur.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT").format(
        target.name.sibling(stage), sql.Identifier(plan.partition_column)))
    cur.execute(sql.SQL("ALTER TABLE {} ATTACH PARTITION {} FOR VALUES IN ({})").format(
        target.name.sql, target.name.sibling(stage), sql.Literal(plan.partition_literal)))
    cur.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(
        target.name.sibling(stage), sql.Identifier(child)))
    cur.execute("SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE i.indrelid = %s::regclass", (f'"{target.name.schema}"."{child}"',))
    for (index,) in cur.fetchall():
        if index.startswith(stage):  # e.g. <stage>_pkey -> <child>_pkey (free: the old one was dropped)
            cur.execute(sql.SQL("ALTER INDEX {} RENAME TO {}").format(
                target.name.sibling(index), sql.Identifier(child + index[len(stage):])))


def _insert(cur: Any, target: tgt.Target, plan: ColumnPlan, stage: str, value: str) -> None:
    columns = [*plan.export_columns, plan.partition_column]
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    statement = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(
        target.name.sql, names, names, target.name.sibling(stage))
    if plan.mode == "replace":
        cur.execute(sql.SQL("DELETE FROM {} WHERE {} = {}").format(
            target.name.sql, sql.Identifier(plan.partition_column), sql.Literal(plan.partition_literal)))
        cur.execute(statement)
        return
    if target.partition_column:  # upsert into a partitioned target: the date's partition must exist
        child = target.name.derived(f"_{value}")
        if tgt.partition_of(cur.connection, target, child) is None:
            cur.execute(sql.SQL("CREATE TABLE {} PARTITION OF {} FOR VALUES IN ({})").format(
                target.name.sibling(child), target.name.sql, sql.Literal(plan.partition_literal)))
    key = plan.update_key or []
    rest = [c for c in columns if c not in key]
    updates = [sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c)) for c in rest]
    action = sql.SQL("DO NOTHING")
    if rest:
        action = sql.SQL("DO UPDATE SET {}").format(sql.SQL(", ").join(updates))
    cur.execute(sql.SQL("{} ON CONFLICT ({}) {}").format(
        statement, sql.SQL(", ").join(map(sql.Identifier, key)), action))


def _verify_sql(target: tgt.Target, plan: ColumnPlan, stage: str, kind: str) -> sql.Composed:
    pcol = sql.SQL("{} = {}").format(
        sql.Identifier("t", plan.partition_column), sql.Literal(plan.partition_literal))
    if plan.mode != "upsert":
        return checksum_sql(target.name.sql, plan.fields, pcol, kind)
    key = plan.update_key or []
    match = sql.SQL(" AND ").join(
        sql.SQL("{} = {}").format(sql.Identifier("s", c), sql.Identifier("t", c)) for c in key)
    where = sql.SQL("{} AND EXISTS (SELECT 1 FROM {} AS s WHERE {})").format(
        pcol, target.name.sibling(stage), match)
    return checksum_sql(target.name.sql, plan.fields, where, kind)


def _rollback(conn: Any) -> None:
    """Roll back what is open; a connection the server dropped has nothing left to roll back."""
    if not conn.closed:
        with contextlib.suppress(psycopg2.Error):
            conn.rollback()


def run_export(request: ExportRequest, settings: Settings | None = None, log: Log = print,
               hdfs_client: Any = None) -> ExportResult:
    """Export one mart partition; the endpoints come from ``settings`` (and ``hdfs_client``)."""
    settings = settings or get_settings()
    valid = validate(request, settings.hive_database)  # nothing user-supplied reaches SQL unchecked
    if hdfs_client is None:
        from hdfs import InsecureClient

        hdfs_client = InsecureClient(settings.webhdfs_url, user=settings.hdfs_user)
    client = hdfs_client
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    reading = contextlib.ExitStack()  # the partition's shared lock, held until the export ends
    try:
        with hive_session(settings) as hive:
            value = valid.partition_value or latest_partition(hive, valid)
            if not valid.export_dir:  # no build is replaced or removed while this export reads it
                reading.enter_context(partition_lock(settings, partition_key(
                    valid.database, valid.mart.name, valid.mart.partition_column, value), exclusive=False))
            source = resolve_source(hive, client, valid.database, valid.mart, value, valid.export_dir)
        timings["source"] = time.perf_counter() - clock
        label = f"{valid.mart.name} {valid.mart.partition_column}={value}"

        conn = _connect(settings)
        feed: SplitFeed | None = None
        try:
            _lock(conn, f"pilot-export:{valid.target}:{value}")
            export_log.ensure_log(conn)
            if tgt.ensure_target(conn, valid.mart, valid.target):
                log(f"created {valid.target} from sql/postgres/{valid.mart.name}.sql")
            target = tgt.inspect_target(conn, valid.target)
            with conn.cursor() as cur:
                kind = checksum.choose(cur)
            conn.commit()
            plan = plan_columns(valid, source.columns, target, value)
            stage = valid.target.derived(f"__stage_{value}")
            total_bytes = sum(size for _, size in source.files)
            tasks = _tasks(valid, plan, source, settings, kind)
            log(f"export {label} -> {valid.target} ({plan.mode}, {len(source.files)} file(s), "
                f"{total_bytes / 1e6:,.1f} MB, {len(tasks)} split(s))")

            with conn.cursor() as cur:  # one transaction from here to the commit
                clock = time.perf_counter()
                tgt.create_staging(cur, target, stage, plan.partition_column, plan.partition_literal,
                                   for_swap=plan.mode == "swap")
                feed = SplitFeed(tasks, total_bytes, log)
                try:
                    _copy(cur, target, stage, plan.export_columns, feed)
                except (psycopg2.Error, SplitFailed) as exc:
                    if feed.failure is not None:
                        raise _failure(feed.failure, client, label) from None
                    detail = " ".join(str(exc).split())
                    raise ExportFailed(f"{label}: COPY failed, nothing was written: {detail}") from exc
                outcomes = [feed.outcomes[i] for i in sorted(feed.outcomes)]
                feed.close()
                feed = None
                read = Tally(sum(o.rows for o in outcomes), sum(o.checksum for o in outcomes))
                bad_count = sum(o.bad_count for o in outcomes)
                bad = [r for o in outcomes for r in o.bad][:SHOWN_BAD_ROWS]
                if bad:
                    _line_numbers(client, bad)
                timings["copy"] = time.perf_counter() - clock
                log(f"  streamed {read.rows:,} rows into staging in {timings['copy']:.1f} s"
                    + (f"; skipped {bad_count:,} bad row(s)" if bad_count else ""))
                for row in bad:
                    log(f"    skipped {row.describe()}")

                clock = time.perf_counter()
                if plan.mode == "swap":
                    tgt.build_staging_keys(cur, target, stage)
                # statistics for the verification's plan (and, after the swap, for everyone's queries)
                cur.execute(sql.SQL("ANALYZE {}").format(target.name.sibling(stage)))
                timings["keys"] = time.perf_counter() - clock
                clock = time.perf_counter()
                # The server may run with synchronous_commit=off (fast staging); the transaction that
                # publishes is durable once COMMIT returns, whatever the server's default.
                cur.execute("SET LOCAL synchronous_commit = on")
                if plan.mode == "swap":
                    _swap(cur, target, plan, stage, value)
                else:
                    _insert(cur, target, plan, stage, value)
                landed = tally(cur, _verify_sql(target, plan, stage, kind))
                compare(read, landed, f"{label} -> {valid.target}")
                export_log.record(cur, target=str(valid.target), mart=valid.mart.name, rows=read.rows,
                                  partition=f"{valid.mart.partition_column}={value}", checksum=read.checksum)
                if plan.mode != "swap":
                    cur.execute(sql.SQL("DROP TABLE {}").format(target.name.sibling(stage)))
            conn.commit()
            timings["swap" if plan.mode == "swap" else plan.mode] = time.perf_counter() - clock
            partition = f"{valid.mart.partition_column}={value}"
            result = ExportResult(valid.mart.name, str(valid.target), partition, plan.mode, read.rows,
                                  read.checksum, sum(o.bytes_read for o in outcomes), len(tasks),
                                  bad_count, bad, timings, kind)
            phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())
            rate = result.rows / max(result.seconds, 1e-9)
            log(f"  {plan.mode} committed and verified ({landed.rows:,} rows, {kind} checksum match); "
                f"total {result.seconds:.1f} s ({phases}), {rate:,.0f} rows/s")
            return result
        except psycopg2.Error as exc:
            _rollback(conn)
            detail = " ".join(str(exc).split())
            if conn.closed:  # the server went away (restart, crash): the open transaction died with it
                raise ExportFailed(f"{label} -> {valid.target}: lost the connection to PostgreSQL at "
                                   f"{settings.postgres_host}:{settings.postgres_port}, nothing was "
                                   f"committed; run the export again once it is back: {detail}") from exc
            raise ExportFailed(f"{label} -> {valid.target}: PostgreSQL refused it, nothing was committed: "
                               f"{detail}") from exc
        except BaseException:
            _rollback(conn)
            raise
        finally:
            if feed is not None:
                feed.close()
            conn.close()
    finally:
        reading.close()
