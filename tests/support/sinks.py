"""Checks of every sink of a pipeline run against the simulator's ground truth (real clients)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from orchestration.pipeline import RunSpec
from pilot.settings import Settings

CHECK_COLUMNS = {"Tire Check": "tire_check", "Light Check": "light_check", "Engine Check": "engine_check",
                 "Brake Check": "brake_check", "Battery Check": "battery_check"}


def raw_partition_lines(s: Settings, base: str, date: str) -> list[str]:
    """Lines of a raw ``wrk_date=`` partition; an unfinished (``_``) file fails the check."""
    from hdfs import InsecureClient

    client = InsecureClient(s.webhdfs_url, user=s.hdfs_user)
    folder = f"{base}/wrk_date={date}"
    lines: list[str] = []
    for name in client.list(folder):
        assert not name.startswith("_"), f"unfinished file {folder}/{name}"
        with client.read(f"{folder}/{name}") as reader:
            lines.extend(reader.read().decode().splitlines())
    return lines


def assert_raw_partitions_hold_each_record_once(s: Settings, spec: RunSpec, truth: dict[str, Any]) -> None:
    cars = truth["cars"]
    for base, facts_key in ((s.hdfs_status_dir, "status_records"), (s.hdfs_drive_dir, "drive_records")):
        lines = raw_partition_lines(s, base, spec.date)
        assert max(Counter(lines).values()) == 1, f"a record appears twice under {base}"
        per_car = Counter(line.split(",")[1] for line in lines)
        assert per_car == {car: facts[facts_key] for car, facts in cars.items()}, base


def hbase_rows_per_car(s: Settings, spec: RunSpec, cars: list[str]) -> dict[str, int]:
    import happybase

    from ingest.loaders.hbase_keys import row_key

    conn = happybase.Connection(s.hbase_host, s.hbase_thrift_port)
    try:
        table = conn.table(s.hbase_table)
        counts = {}
        for car in cars:
            prefix = row_key(car, "99999999999999")[:-14]  # salt + car
            keys = [key for key, _ in table.scan(row_prefix=prefix, columns=[b"cf1:r_date"],
                                                 filter=b"KeyOnlyFilter()")]
            counts[car] = sum(1 for k in keys if _day_of(k) == spec.date)
        return counts
    finally:
        conn.close()


def _day_of(key: bytes) -> str:
    reversed_ts = int(key[-14:])
    return str(99999999999999 - reversed_ts).zfill(14)[:8]


def assert_hbase_holds_every_event_once(s: Settings, spec: RunSpec, truth: dict[str, Any]) -> None:
    cars = truth["cars"]
    assert hbase_rows_per_car(s, spec, list(cars)) == {car: f["drive_records"] for car, f in cars.items()}


def assert_redis_alerts_equal_truth(s: Settings, spec: RunSpec, truth: dict[str, Any]) -> None:
    import redis

    expected = {f"{car}-{w}" for car, facts in truth["cars"].items() for w in facts["overspeed_windows"]}
    client = redis.Redis(host=s.redis_host, port=s.redis_port, password=s.redis_password)
    assert {m.decode() for m in client.smembers(spec.date)} == expected
    if expected:
        assert 0 < client.ttl(spec.date) <= s.alert_ttl_days * 86400


def assert_postgres_has_the_marts(s: Settings, spec: RunSpec, truth: dict[str, Any]) -> None:
    import contextlib

    import psycopg2

    cars = truth["cars"]
    adults = {car for car, f in cars.items() if f["adult"]}
    with contextlib.closing(psycopg2.connect(s.postgres_dsn)) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM public.smartcar_drive_info "
                    "WHERE biz_date = to_date(%s, 'YYYYMMDD')", (spec.date,))
        assert cur.fetchone()[0] == sum(cars[c]["drive_records"] for c in adults)
        cur.execute("SELECT car_number, " + ", ".join(CHECK_COLUMNS.values()) +
                    " FROM public.smartcar_emergency_check_info WHERE biz_date = to_date(%s, 'YYYYMMDD')",
                    (spec.date,))
        got = {row[0]: {label for label, flag in zip(CHECK_COLUMNS, row[1:], strict=True) if flag}
               for row in cur.fetchall()}
    assert got == {car: set(cars[car]["failed_checks"]) for car in adults if cars[car]["failed_checks"]}
