"""Both loaders in bounded mode against the real stack (Kafka, WebHDFS, HBase Thrift, Redis).

Each test simulates a short day on a date no other test uses, produces it (with a collector
replay and a few bad lines mixed in) to the loader tests' own topics, loads it into their own
HBase table (``loader_stack``; the services are the real ones), starts a new consumer group at
the end offsets recorded before producing, and compares the stores with the produced lines, the
simulator's ground truth and an independent pandas computation. Data is removed afterwards.
"""

from __future__ import annotations

import dataclasses
import json
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import happybase
import pandas as pd
import pytest
import redis
from hdfs import InsecureClient

from ingest.loaders.batch import BatchLoader, BatchOptions
from ingest.loaders.hbase_keys import car_prefix, latest_events, timestamp_of
from ingest.loaders.realtime import RealtimeLoader, RealtimeOptions
from ingest.loaders.redis_sink import closed_key
from ingest.loaders.reference import upload_reference
from ingest.simulator import SimulatorConfig, simulate_day
from pilot.settings import Settings
from stack.services import hbase as hbase_service
from tests.support import feed

BAD = ["# a header line", "20200322000000,A0001,1,1,F,N,10,A01", "20200322000000,A0001,1,0,F,N,999,A01"]


@dataclass
class Day:
    s: Settings
    date: str
    tag: str
    folder: Path
    status: list[str]
    drive: list[str]
    alerts: set[str]
    cars: list[str]
    hdfs_root: str

    @property
    def drive_stream(self) -> list[str]:
        """The driving lines as a collector would send them after a crash: a chunk twice, bad lines."""
        stream = list(self.drive)
        stream[400:400] = stream[300:420]
        stream[500:500] = BAD
        return stream

    @property
    def status_stream(self) -> list[str]:
        stream = [f"{line},{self.date}" for line in self.status]
        stream[50:50] = BAD[:1]
        return stream


def unique_date() -> str:
    rnd = random.Random(uuid.uuid4().int)
    return f"{rnd.randint(2040, 2099)}{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}"


def make_day(s: Settings, folder: Path, day_seconds: int = 1800) -> Day:
    tag = uuid.uuid4().hex[:8]
    # The data depends on the (random, unique) date: draw again until the day has alerts to check.
    for _ in range(25):
        date = unique_date()
        simulate_day(folder, date, cars=5, seed=7,
                     config=SimulatorConfig(day_seconds=day_seconds, overspeed_share=0.6))
        truth = json.loads((folder / f"ground_truth_{date}.json").read_text())
        alerts = {f"{car}-{w}" for car, f in truth["cars"].items() for w in f["overspeed_windows"]}
        if alerts:
            break
        for leftover in folder.iterdir():
            if leftover.is_file():
                leftover.unlink()
    assert alerts, "25 simulated days in a row had no overspeed window"
    return Day(s, date, tag, folder,
               feed.read_lines(folder / f"SmartCarStatusInfo_{date}.txt"),
               feed.read_lines(folder / f"SmartCarDrivingInfo_{date}.txt"),
               alerts, sorted(truth["cars"]), f"/tmp/pilot-test-{tag}")


def pandas_alerts(lines: list[str], length: int, threshold: float) -> set[str]:
    frame = pd.DataFrame([line.split(",") for line in lines]).iloc[:, [0, 1, 6]]
    frame.columns = ["r_date", "car", "speed"]
    frame = frame.drop_duplicates(["r_date", "car"])
    clock = pd.to_datetime(frame["r_date"], format="%Y%m%d%H%M%S")
    start = clock.dt.normalize()
    frame["window"] = start + pd.to_timedelta(
        ((clock - start).dt.total_seconds() // length * length).astype(int), unit="s")
    means = frame.assign(speed=frame["speed"].astype(float)).groupby(["car", "window"])["speed"].mean()
    return {f"{car}-{w:%Y%m%d%H%M%S}" for car, w in means[means > threshold].index}


def hbase_rows(s: Settings, cars: list[str], date: str) -> dict[bytes, dict[bytes, bytes]]:
    conn = happybase.Connection(s.hbase_host, s.hbase_thrift_port, timeout=30000)
    try:
        table = conn.table(s.hbase_table)
        return {key: data for car in cars for key, data in table.scan(row_prefix=car_prefix(car))
                if timestamp_of(key).startswith(date)}
    finally:
        conn.close()


def hdfs_lines(s: Settings, base: str, date: str, strict: bool = True) -> list[str]:
    """Lines of the final files of a wrk_date folder (strict: no temporary file may be left)."""
    client = InsecureClient(s.webhdfs_url, user=s.hdfs_user)
    folder = f"{base}/wrk_date={date}"
    if client.status(folder, strict=False) is None:
        return []
    lines: list[str] = []
    for name in client.list(folder):
        if name.startswith(("_", ".")):
            assert not strict, f"temporary file left behind: {folder}/{name}"
            continue
        with client.read(f"{folder}/{name}") as reader:
            lines.extend(reader.read().decode().splitlines())
    return lines


def redis_client(s: Settings) -> redis.Redis:
    return redis.Redis(host=s.redis_host, port=s.redis_port, password=s.redis_password, db=s.redis_db,
                       decode_responses=True)


def cleanup(day: Day, groups: list[str], extra_dates: tuple[str, ...] = ()) -> None:
    s = day.s
    r = redis_client(s)
    r.delete(day.date, *extra_dates, *(closed_key(g, d) for g in groups for d in (day.date, *extra_dates)))
    conn = happybase.Connection(s.hbase_host, s.hbase_thrift_port, timeout=30000)
    try:
        table = conn.table(s.hbase_table)
        with table.batch(batch_size=2000) as batch:
            for date in (day.date, *extra_dates):
                for key in hbase_rows(s, day.cars, date):
                    batch.delete(key)
    finally:
        conn.close()
    InsecureClient(s.webhdfs_url, user=s.hdfs_user).delete(day.hdfs_root, recursive=True)


@pytest.fixture()
def day(loader_stack: Settings, tmp_path: Path) -> Iterator[Day]:
    made = make_day(loader_stack, tmp_path)
    yield made
    cleanup(made, [f"it-rt-{made.tag}", f"it-rt2-{made.tag}"])


def _batch(day: Day, group: str, **kw: Any) -> BatchLoader:
    options = BatchOptions(group=group, bounded=True, status_dir=f"{day.hdfs_root}/status",
                           drive_dir=f"{day.hdfs_root}/drive", service_timeout=120, **kw)
    return BatchLoader(day.s, options)


def test_batch_loader_bounded_lands_every_line_once(day: Day) -> None:
    s = day.s
    group = f"it-batch-{day.tag}"
    ends = {**feed.end_offsets(s, s.topic_status), **feed.end_offsets(s, s.topic_drive)}
    feed.start_group_at(s, group, ends)
    feed.produce(s, s.topic_status, day.status_stream)
    feed.produce(s, s.topic_drive, day.drive_stream)

    report = _batch(day, group, roll_records=1000).run()
    assert report.reconciles(), report.describe()
    assert report.topics[s.topic_drive].rejected >= len(BAD)
    expected_drive = [line for line in day.drive_stream if line not in BAD]
    assert Counter(hdfs_lines(s, f"{day.hdfs_root}/drive", day.date)) == Counter(expected_drive)
    expected_status = [line for line in day.status_stream if line not in BAD]
    assert Counter(hdfs_lines(s, f"{day.hdfs_root}/status", day.date)) == Counter(expected_status)

    # rerun, same group: nothing new; a new group from the same offsets: HDFS names say it is there
    _batch(day, group, roll_records=1000).run()
    other = f"it-batch2-{day.tag}"
    feed.start_group_at(s, other, ends)
    again = _batch(day, other, roll_records=700).run()
    assert again.skipped_in_hdfs >= len(expected_drive) + len(expected_status)
    assert Counter(hdfs_lines(s, f"{day.hdfs_root}/drive", day.date)) == Counter(expected_drive)
    assert Counter(hdfs_lines(s, f"{day.hdfs_root}/status", day.date)) == Counter(expected_status)


def test_reference_upload_is_atomic_and_idempotent(day: Day) -> None:
    s = dataclasses.replace(day.s, hdfs_root=day.hdfs_root)
    for _ in range(2):
        uploaded = upload_reference(s, day.folder)
    client = InsecureClient(s.webhdfs_url, user=s.hdfs_user)
    assert client.list(s.hdfs_master_dir) == ["CarMaster.txt"]
    assert client.list(s.hdfs_buylist_dir) == [f"CarItemBuyList_{day.date[:6]}.txt"]
    for item in uploaded:
        with client.read(item.hdfs) as reader:
            assert reader.read() == Path(item.local).read_bytes()


def test_realtime_loader_bounded_matches_ground_truth_and_pandas(day: Day) -> None:
    s = day.s
    group = f"it-rt-{day.tag}"
    feed.start_group_at(s, group, feed.end_offsets(s, s.topic_drive))
    stream = day.drive_stream
    feed.produce(s, s.topic_drive, stream)

    report = RealtimeLoader(s, RealtimeOptions(group=group, bounded=True, service_timeout=120)).run()
    c = report.counts
    assert c.consumed == c.written + c.rejected and c.rejected >= len(BAD), report.describe()

    rows = hbase_rows(s, day.cars, day.date)
    distinct = {tuple(line.split(",")) for line in day.drive}
    assert len(rows) == len(distinct)
    fam = s.hbase_family.encode()
    got = {tuple(data[fam + b":" + name.encode()].decode() for name in
                 ("r_date", "car_number", "speed_pedal", "break_pedal", "steer_angle", "direct_light",
                  "speed", "area_number")) for data in rows.values()}
    assert got == distinct

    alerts = redis_client(s).smembers(day.date)
    assert alerts == day.alerts
    assert alerts == pandas_alerts(stream[:500] + stream[503:], s.overspeed_window_seconds,
                                   s.overspeed_speed_kmh)
    assert 0 < redis_client(s).ttl(day.date) <= s.alert_ttl_days * 86_400

    car = day.cars[0]
    conn = happybase.Connection(s.hbase_host, s.hbase_thrift_port, timeout=30000)
    try:
        latest = latest_events(conn, car, 5, s.hbase_table, s.hbase_family)
    finally:
        conn.close()
    mine = sorted((line.split(",")[0] for line in day.drive if line.split(",")[1] == car), reverse=True)
    assert [e["r_date"] for e in latest][:5] == mine[:5]
    state = redis_client(s).hgetall(f"car:{car}")
    assert state["time"] >= mine[0]

    # a replay of the whole stream by another group adds no alert and no row
    feed.start_group_at(s, f"it-rt2-{day.tag}", feed.end_offsets(s, s.topic_drive))
    feed.produce(s, s.topic_drive, stream)
    RealtimeLoader(s, RealtimeOptions(group=f"it-rt2-{day.tag}", bounded=True, service_timeout=120)).run()
    assert redis_client(s).smembers(day.date) == day.alerts
    assert len(hbase_rows(s, day.cars, day.date)) == len(distinct)


def test_realtime_bulk_load_of_a_backlog_matches_ground_truth_and_pandas(day: Day) -> None:
    """A past day replayed with HBase's bulk load (HFiles) instead of puts: the same rows and alerts,
    offsets committed only after the load, and loading the backlog again changes nothing."""
    s = day.s
    group = f"it-rt-{day.tag}"
    feed.start_group_at(s, group, feed.end_offsets(s, s.topic_drive))
    stream = day.drive_stream
    feed.produce(s, s.topic_drive, stream)
    load = partial(hbase_service.bulk_load, s, s.hbase_table)

    def bulk_run(group: str) -> Any:
        options = RealtimeOptions(group=group, bounded=True, bulk=True, service_timeout=120)
        return RealtimeLoader(s, options, bulk_load=load).run()

    report = bulk_run(group)
    c = report.counts
    assert c.consumed == c.written + c.rejected and c.rejected >= len(BAD), report.describe()
    distinct = {tuple(line.split(",")) for line in day.drive}
    rows = hbase_rows(s, day.cars, day.date)
    fam = s.hbase_family.encode()
    got = {tuple(data[fam + b":" + name.encode()].decode() for name in
                 ("r_date", "car_number", "speed_pedal", "break_pedal", "steer_angle", "direct_light",
                  "speed", "area_number")) for data in rows.values()}
    assert len(rows) == len(distinct) and got == distinct
    assert redis_client(s).smembers(day.date) == day.alerts == pandas_alerts(
        stream[:500] + stream[503:], s.overspeed_window_seconds, s.overspeed_speed_kmh)

    assert bulk_run(group).counts.consumed == 0  # the load's offsets were committed
    feed.start_group_at(s, f"it-rt2-{day.tag}", feed.end_offsets(s, s.topic_drive))
    feed.produce(s, s.topic_drive, stream)
    assert bulk_run(f"it-rt2-{day.tag}").counts.written >= len(distinct)
    assert len(hbase_rows(s, day.cars, day.date)) == len(distinct)
    assert redis_client(s).smembers(day.date) == day.alerts
