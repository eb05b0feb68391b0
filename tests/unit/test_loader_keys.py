"""Row key design of DriverCarInfo: prefix scans per car, newest first, stable, spread over buckets."""

from __future__ import annotations

import random
from collections import Counter

from ingest.loaders.hbase_keys import (
    KEY_LENGTH,
    SALT_BUCKETS,
    SPLIT_KEYS,
    car_prefix,
    latest_events,
    row_key,
    salt,
    timestamp_of,
)
from ingest.simulator.fleet import MAX_CARS, car_number


def _times(n: int, seed: int = 1) -> list[str]:
    rnd = random.Random(seed)
    return sorted({f"2020{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}{rnd.randint(0, 23):02d}"
                   f"{rnd.randint(0, 59):02d}{rnd.randint(0, 59):02d}" for _ in range(n)})


def test_key_layout_example() -> None:
    key = row_key("A0001", "20200322101530")
    assert len(key) == KEY_LENGTH
    assert key == b"cA000179799677898469"  # crc32("A0001") % 16 = 12 -> "c"; 99999999999999 - ts
    assert timestamp_of(key) == "20200322101530"


def test_same_event_same_key_and_different_events_differ() -> None:
    assert row_key("B0042", "20200322000002") == row_key("B0042", "20200322000002")
    keys = {row_key(car, ts) for car in ("A0001", "A0010", "B0001") for ts in _times(200)}
    assert len(keys) == 3 * len(_times(200))


def test_prefix_scan_of_a_car_returns_its_events_newest_first() -> None:
    cars = [car_number(i) for i in range(0, MAX_CARS, 37)]
    times = _times(300)
    rows = sorted(row_key(car, ts) for car in cars for ts in times)  # HBase orders rows by bytes
    for car in cars:
        prefix = car_prefix(car)
        mine = [k for k in rows if k.startswith(prefix)]
        assert len(mine) == len(times)  # no other car's row shares the prefix
        assert [timestamp_of(k) for k in mine] == sorted(times, reverse=True)
        # contiguous: one range scan, no interleaving with other cars
        first = rows.index(mine[0])
        assert rows[first:first + len(mine)] == mine


def test_salt_is_deterministic_and_spreads_the_fleet() -> None:
    fleet = [car_number(i) for i in range(MAX_CARS)]
    buckets = Counter(salt(car) for car in fleet)
    assert set(buckets) == {f"{b:x}" for b in range(SALT_BUCKETS)}
    expected = MAX_CARS / SALT_BUCKETS
    assert all(0.7 * expected < n < 1.3 * expected for n in buckets.values()), buckets
    assert salt("A0001") == "c"  # fixed: crc32, not Python's per-process salted hash()
    assert [k.decode() for k in SPLIT_KEYS] == [f"{b:x}" for b in range(1, SALT_BUCKETS)]


class _FakeTable:
    def __init__(self, rows: dict[bytes, dict[bytes, bytes]]) -> None:
        self.rows = rows

    def scan(self, row_prefix: bytes, limit: int):
        keys = sorted(k for k in self.rows if k.startswith(row_prefix))[:limit]
        return iter([(k, self.rows[k]) for k in keys])


class _FakeConn:
    def __init__(self, rows: dict[bytes, dict[bytes, bytes]]) -> None:
        self._table = _FakeTable(rows)

    def table(self, name: str) -> _FakeTable:
        return self._table


def test_latest_events_uses_one_prefix_scan() -> None:
    times = _times(50)
    rows = {row_key(car, ts): {b"cf1:r_date": ts.encode(), b"cf1:car_number": car.encode(),
                               b"cf1:speed": b"10"}
            for car in ("A0001", "A0002") for ts in times}
    latest = latest_events(_FakeConn(rows), "A0002", 5, table="DriverCarInfo", family="cf1")
    assert [e["r_date"] for e in latest] == sorted(times, reverse=True)[:5]
    assert {e["car_number"] for e in latest} == {"A0002"}
