"""The Sqoop-like export against the real HDFS, Hive endpoint and PostgreSQL.

Marts of one short simulated day are built in a private Hive database, then exported into a
private PostgreSQL schema (both dropped at the end).
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from decimal import Decimal
from typing import Any
from urllib.parse import urlparse

import psycopg2
import pytest
from hdfs import InsecureClient

import export.runner as export_runner
from export import ExportFailed, ExportRequest, run_export
from export.target import InvalidTarget
from export.verify import ChecksumMismatch
from marts import runner
from marts.catalog import MARTS, get_mart
from marts.hive import HiveSession
from orchestration import cli
from pilot.errors import InvalidInput
from pilot.settings import Settings
from tests.support.devdata import PreparedDay, drop_prepared, prepare_day

DATE = "20200405"  # unique to this module
DAY = dt.date(2020, 4, 5)


@pytest.fixture(scope="module")
def day(
    tmp_path_factory: pytest.TempPathFactory, client: InsecureClient, hive: HiveSession
) -> Iterator[PreparedDay]:
    tag = uuid.uuid4().hex[:8]
    prepared = prepare_day(
        tmp_path_factory.mktemp("export"),
        DATE,
        f"/tmp/pilot-it/export-{tag}",
        f"pilot_it_export_{tag}",
        client,
        cars=12,
        seed=11,
    )
    runner.build_marts(DATE, config=prepared.config, log=lambda _: None, hive=hive, hdfs_client=client)
    yield prepared
    drop_prepared(hive, client, prepared)


@pytest.fixture(scope="module")
def schema(stack: Settings) -> Iterator[str]:
    name = f"it_export_{uuid.uuid4().hex[:8]}"
    yield name
    with psycopg2.connect(stack.postgres_dsn) as conn, conn.cursor() as cur:
        cur.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


@pytest.fixture
def pg(stack: Settings) -> Iterator[Any]:
    conn = psycopg2.connect(stack.postgres_dsn)
    conn.autocommit = True
    yield conn
    conn.close()


def export(day: PreparedDay, mart: str, target: str, **options: Any) -> Any:
    request = ExportRequest(
        mart=mart,
        target=target,
        biz_date=options.pop("biz_date", DATE),
        database=day.config.database,
        **options,
    )
    return run_export(request, log=lambda _: None)


def hive_rows(hive: HiveSession, day: PreparedDay, mart_name: str) -> list[tuple[Any, ...]]:
    mart = get_mart(mart_name)
    value = DATE[:6] if mart.monthly else DATE
    result = hive.query(
        f"SELECT * FROM {day.config.database}.{mart.name} WHERE {mart.partition_column} = '{value}'"
    )
    keep = [i for i, c in enumerate(result.columns) if c != mart.partition_column]
    return sorted(tuple(row[i] for i in keep) for row in result.rows)


def pg_rows(
    pg: Any, table: str, pcol: str = "biz_date", value: Any = DAY, columns: list[str] | None = None
) -> list[tuple[Any, ...]]:
    with pg.cursor() as cur:
        cur.execute(f"SELECT * FROM {table} WHERE {pcol} = %s", (value,))
        names = [d[0] for d in cur.description]
        keep = [i for i, c in enumerate(names) if c != pcol and (columns is None or c in columns)]
        return sorted(tuple(row[i] for i in keep) for row in cur.fetchall())


def snapshot(pg: Any, table: str) -> tuple[Any, ...]:
    with pg.cursor() as cur:
        cur.execute(f"SELECT count(*), coalesce(sum(hashtext(t::text)::bigint), 0) FROM {table} t")
        return cur.fetchone()


def stages_left(pg: Any, schema: str) -> list[str]:
    with pg.cursor() as cur:
        cur.execute(
            "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND relname LIKE '%%__stage_%%'",
            (schema,),
        )
        return [r[0] for r in cur.fetchall()]


def create_table(pg: Any, schema: str, ddl: str) -> None:
    """A target the test shapes itself (in the module's schema)."""
    with pg.cursor() as cur:
        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        cur.execute(ddl)


@contextmanager
def refused(
    pg: Any, schema: str, target: str, error: type[Exception], match: str | None = None
) -> Iterator[pytest.ExceptionInfo[Exception]]:
    """The block's export fails with ``error``; the target is as it was, no staging table is left."""
    before = snapshot(pg, target)
    with pytest.raises(error, match=match) as info:
        yield info
    assert snapshot(pg, target) == before
    assert stages_left(pg, schema) == []


@pytest.mark.parametrize("mart", [m.alias for m in MARTS])
def test_every_mart_round_trips(mart: str, day: PreparedDay, hive: HiveSession, pg: Any, schema: str) -> None:
    spec = get_mart(mart)
    target = f"{schema}.rt_{spec.alias}"
    result = export(day, mart, target)
    value: Any = DATE[:6] if spec.monthly else DAY
    expected = hive_rows(hive, day, spec.name)
    assert result.rows == len(expected) > 0
    assert pg_rows(pg, target, spec.partition_column, value) == expected


def test_rerun_leaves_exactly_one_copy(day: PreparedDay, hive: HiveSession, pg: Any, schema: str) -> None:
    target = f"{schema}.twice_drive"
    first = export(day, "drive", target, splits=3)
    before = snapshot(pg, target)
    second = export(day, "drive", target, splits=2)
    assert (first.rows, first.checksum) == (second.rows, second.checksum)
    assert snapshot(pg, target) == before
    assert before[0] == len(hive_rows(hive, day, "drive"))
    with pg.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = %s::regclass", (target,))
        assert cur.fetchone()[0] == 1
    assert stages_left(pg, schema) == []


def test_split_count_does_not_change_the_result(day: PreparedDay, pg: Any, schema: str) -> None:
    one = export(day, "status", f"{schema}.splits_one", splits=1)
    many = export(day, "status", f"{schema}.splits_many", splits=7, min_split_bytes=1)
    assert many.splits > 1
    assert (one.rows, one.checksum) == (many.rows, many.checksum)
    assert pg_rows(pg, f"{schema}.splits_one") == pg_rows(pg, f"{schema}.splits_many")


def test_upsert_on_update_key(day: PreparedDay, hive: HiveSession, pg: Any, schema: str) -> None:
    target = f"{schema}.upsert_symptom"
    export(day, "symptom", target, update_key="biz_date,car_number")
    expected = hive_rows(hive, day, "symptom")
    with pg.cursor() as cur:
        cur.execute(f"UPDATE {target} SET sharp_turns = -1 WHERE car_number = %s", (expected[0][0],))
        cur.execute(f"INSERT INTO {target} (car_number, biz_date) VALUES ('Z9999', %s)", (DAY,))
    result = export(day, "symptom", target, update_key="car_number,biz_date")
    assert result.mode == "upsert"
    rows = pg_rows(pg, target)
    assert [r for r in rows if r[0] != "Z9999"] == expected  # updated back
    assert any(r[0] == "Z9999" for r in rows)  # upsert keeps rows it does not export


def test_replace_into_a_plain_table(day: PreparedDay, hive: HiveSession, pg: Any, schema: str) -> None:
    target = f"{schema}.plain_emergency"
    create_table(
        pg,
        schema,
        f"CREATE TABLE {target} (car_number varchar(5) NOT NULL, status_events integer, "
        "avg_tire_fl numeric(12,6), avg_tire_fr numeric(12,6), avg_tire_bl numeric(12,6), "
        "avg_tire_br numeric(12,6), avg_battery numeric(12,6), tire_check boolean, "
        "light_check boolean, engine_check boolean, brake_check boolean, battery_check boolean, "
        "check_count integer, checks text, biz_date date NOT NULL, PRIMARY KEY (biz_date, car_number))",
    )
    with pg.cursor() as cur:
        cur.execute(f"INSERT INTO {target} (car_number, biz_date) VALUES ('A0001', '2020-01-01')")
    for _ in range(2):
        result = export(day, "emergency", target)
        assert result.mode == "replace"
    assert pg_rows(pg, target) == hive_rows(hive, day, "emergency")
    assert len(pg_rows(pg, target, value=dt.date(2020, 1, 1))) == 1  # other dates untouched


def test_column_subset(day: PreparedDay, hive: HiveSession, pg: Any, schema: str) -> None:
    target = f"{schema}.battery_only"
    create_table(
        pg,
        schema,
        f"CREATE TABLE {target} (car_number varchar(5) NOT NULL, battery smallint, "
        "reg_date char(14) NOT NULL, biz_date date NOT NULL, "
        "PRIMARY KEY (biz_date, car_number, reg_date)) PARTITION BY LIST (biz_date)",
    )
    export(day, "status", target, columns="car_number,battery,reg_date")
    full = hive.query(
        f"SELECT car_number, battery, reg_date FROM {day.config.database}.managed_smartcar_status_info "
        f"WHERE biz_date = '{DATE}'"
    ).rows
    assert pg_rows(pg, target) == sorted(full)


def _copy_with_bad_line(client: InsecureClient, day: PreparedDay, mart: str, line_no: int, spoil: Any) -> str:
    """Copy a mart partition's files to a new HDFS folder, spoiling line `line_no` of the first file."""
    spec = get_mart(mart)
    with HiveSession() as hive:
        rows = hive.query(f"DESCRIBE FORMATTED {day.config.database}.{spec.name} "
                          f"PARTITION ({spec.partition_column} = '{DATE}')").rows
    location = next(str(r[1]).strip() for r in rows if str(r[0] or "").strip() == "Location")
    source = urlparse(location).path
    target = f"{day.hdfs_root}/bad-{uuid.uuid4().hex[:6]}"
    names = sorted(n for n in client.list(source) if not n.startswith(("_", ".")))
    for index, name in enumerate(names):
        with client.read(f"{source}/{name}") as reader:
            data = reader.read()
        if index == 0:
            lines = data.split(b"\n")
            lines[line_no - 1] = spoil(lines[line_no - 1])
            data = b"\n".join(lines)
        client.write(f"{target}/{name}", data, overwrite=True)
    return target


def test_bad_number_fails_before_the_target_is_touched(
    day: PreparedDay, client: InsecureClient, pg: Any, schema: str
) -> None:
    target = f"{schema}.guarded_status"
    export(day, "status", target)

    def spoil(line: bytes) -> bytes:
        fields = line.split(b"\t")
        fields[2] = b"7x"  # tire_fl
        return b"\t".join(fields)

    folder = _copy_with_bad_line(client, day, "status", 7, spoil)
    with refused(pg, schema, target, ExportFailed) as info:
        export(day, "status", target, export_dir=folder, splits=3, min_split_bytes=1)
    message = str(info.value)
    assert folder in message and "line 7" in message and "--skip-bad-rows" in message
    assert "tire_fl" in message and "7x" in message


def test_wrong_column_count_is_reported(
    day: PreparedDay, client: InsecureClient, pg: Any, schema: str
) -> None:
    target = f"{schema}.guarded_drive"
    export(day, "drive", target)
    folder = _copy_with_bad_line(client, day, "drive", 3, lambda line: line.rsplit(b"\t", 2)[0])
    with refused(pg, schema, target, ExportFailed, match=r"line 3: 14 fields, expected 16"):
        export(day, "drive", target, export_dir=folder)


def test_skip_bad_rows_reports_and_continues(
    day: PreparedDay, client: InsecureClient, pg: Any, hive: HiveSession, schema: str
) -> None:
    target = f"{schema}.skipping_status"
    folder = _copy_with_bad_line(client, day, "status", 2, lambda line: line + b"\textra")
    result = export(day, "status", target, export_dir=folder, skip_bad_rows=True, splits=3, min_split_bytes=1)
    total = len(hive_rows(hive, day, "status"))
    assert result.bad_count == 1 and result.bad[0].line == 2 and "fields" in result.bad[0].reason
    assert result.rows == total - 1 == snapshot(pg, target)[0]


def test_failure_inside_the_swap_rolls_back(
    day: PreparedDay, pg: Any, schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = f"{schema}.injected"
    export(day, "symptom", target)

    def broken(source: Any, landed: Any, where: str) -> None:
        raise ChecksumMismatch(f"{where}: injected")

    monkeypatch.setattr(export_runner, "compare", broken)
    with refused(pg, schema, target, ChecksumMismatch):
        export(day, "symptom", target)


def test_empty_source_replaces_the_date_with_nothing(
    day: PreparedDay, client: InsecureClient, pg: Any, schema: str
) -> None:
    target = f"{schema}.emptied"
    export(day, "emergency", target)
    empty = f"{day.hdfs_root}/empty-{uuid.uuid4().hex[:6]}"
    client.makedirs(empty)
    result = export(day, "emergency", target, export_dir=empty)
    assert result.rows == 0 and snapshot(pg, target)[0] == 0


def test_hostile_values_are_rejected_before_any_connection(
    day: PreparedDay, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("no connection may be made")

    monkeypatch.setattr(export_runner, "hive_session", refuse)
    monkeypatch.setattr(export_runner.psycopg2, "connect", refuse)
    with pytest.raises(InvalidTarget):
        export(day, "status", "public.x; DROP TABLE y")
    with pytest.raises(InvalidTarget):
        export(day, "status", 'public."X"')
    with pytest.raises(InvalidInput):
        export(day, "status", "public.x", biz_date="20200322'; DROP TABLE x; --")
    with pytest.raises(InvalidTarget):
        export(day, "status", "public.x", columns="car_number,reg_date); DROP TABLE y; --")
    with pytest.raises(InvalidInput):
        export(day, "status; DROP TABLE y", "public.x")


def test_cli_export(day: PreparedDay, pg: Any, schema: str) -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli.main(
            [
                "export",
                "--table",
                "buylist",
                "--biz-date",
                DATE,
                "--database",
                day.config.database,
                "--target",
                f"{schema}.cli_buylist",
                "--splits",
                "2",
            ]
        )
    assert code == 0 and "checksum match" in out.getvalue()
    with pg.cursor() as cur:
        cur.execute(f"SELECT DISTINCT biz_month FROM {schema}.cli_buylist")
        assert cur.fetchall() == [(DATE[:6],)]
    latest = run_export(
        ExportRequest(mart="emergency", target=f"{schema}.cli_latest", database=day.config.database),
        log=lambda _: None,
    )
    assert latest.partition == f"biz_date={DATE}"


def test_decimal_values_survive(day: PreparedDay, pg: Any, schema: str) -> None:
    rows = pg_rows(pg, f"{schema}.rt_symptom")
    assert rows and all(isinstance(r[2], Decimal) for r in rows)


def test_checksum_hash_matches_the_server(pg: Any) -> None:
    import random

    from export import checksum

    rnd = random.Random(7)
    rows = ["".join(rnd.choice("ab09\t서울\\N.") for _ in range(rnd.randint(0, 90))) for _ in range(300)]
    with pg.cursor() as cur:
        assert checksum.choose(cur) == "hashtext"
        cur.execute("SELECT sum(hashtextextended(x, 0)) FROM unnest(%s::text[]) AS u(x)", (rows,))
        assert int(cur.fetchone()[0]) == checksum.sum_rows([r.encode() for r in rows], "hashtext")


def test_the_publishing_transaction_is_synchronous(
        day: PreparedDay, pg: Any, schema: str, stack: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server runs with synchronous_commit=off; the swap's transaction turns it on for itself."""
    from psycopg2.extras import LoggingConnection

    statements: list[str] = []

    class Recorder:
        def write(self, text: str) -> None:
            statements.append(" ".join(text.split()))

    def connect(settings: Settings) -> Any:
        conn = psycopg2.connect(settings.postgres_dsn, connection_factory=LoggingConnection)
        conn.initialize(Recorder())
        return conn

    monkeypatch.setattr(export_runner, "_connect", connect)
    export(day, "status", f"{schema}.durable_status")
    with pg.cursor() as cur:
        cur.execute("SHOW synchronous_commit")
        assert cur.fetchone()[0] == "off"  # otherwise this test proves nothing
    turned_on = [i for i, s in enumerate(statements) if s == "SET LOCAL synchronous_commit = on"]
    analyzed = [i for i, s in enumerate(statements) if s.startswith("ANALYZE")]  # staging is loaded
    attached = [i for i, s in enumerate(statements) if "ATTACH PARTITION" in s]  # the publish
    assert len(turned_on) == 1 and analyzed and attached, statements
    assert max(analyzed) < turned_on[0] < min(attached)


def test_postgres_restarted_mid_export_leaves_the_target_and_the_retry_publishes(
        day: PreparedDay, hive: HiveSession, pg: Any, schema: str, stack: Settings) -> None:
    """PostgreSQL goes down while an export waits to publish its fully staged partition: the export
    fails with a readable error, the target is as it was, and running it again publishes all."""
    import threading

    from stack import manager

    target = f"{schema}.restart_drive"
    export(day, "drive", target)
    with pg.cursor() as cur:  # yesterday's publish was short of rows: the retry must fix it
        cur.execute(f"DELETE FROM {target} WHERE ctid IN (SELECT ctid FROM {target} LIMIT 100)")
    before = snapshot(pg, target)
    blocker = psycopg2.connect(stack.postgres_dsn)
    with blocker.cursor() as cur:  # readers welcome, the publish has to wait
        cur.execute(f"LOCK TABLE {target} IN EXCLUSIVE MODE")
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = export(day, "drive", target)
        except Exception as exc:  # the assertion below looks at it
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    try:
        deadline = dt.datetime.now() + dt.timedelta(seconds=180)
        waiting: list[Any] = []
        while not waiting and dt.datetime.now() < deadline and thread.is_alive():
            with pg.cursor() as cur:  # autocommit: a fresh view of the activity each time
                cur.execute("SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                            "AND query ILIKE %s", (f"%{target.split('.')[1]}%",))
                waiting = cur.fetchall()
        assert waiting, f"the export never waited to publish: {outcome}"  # staged, about to publish
        manager.down(stack, ["postgres"])
        manager.up(stack)
    finally:
        thread.join(timeout=120)
        blocker.close()
    assert "result" not in outcome, "the export published while PostgreSQL was restarted"
    error = outcome["error"]
    assert isinstance(error, ExportFailed), repr(error)
    assert "nothing was committed" in str(error) and "Traceback" not in str(error)

    again = psycopg2.connect(stack.postgres_dsn)
    again.autocommit = True  # no open transaction (and no locks) while the retry publishes
    try:
        assert snapshot(again, target) == before  # untouched
        assert stages_left(again, schema) == []
        result = export(day, "drive", target)
        expected = hive_rows(hive, day, "drive")
        assert result.rows == len(expected)
        assert pg_rows(again, target) == expected
    finally:
        again.close()
