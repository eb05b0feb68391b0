"""Loader throughput and latency on the real stack; writes the ``## Loaders`` section of BENCHMARKS.md.

Usage: python bench/bench_loaders.py [--cars 100] [--seconds 3600] [--rate 20000] [--live-seconds 60]
                                     [--no-report]

Runs on separate bench topics (``pilot-bench-*``, created if missing) and a date far in the future,
so the shared topics and the real partitions are untouched; HBase rows, Redis keys and HDFS
folders of the run are deleted at the end.

1. realtime, catch-up: the whole day's driving events are produced first, then the real-time loader
   reads them (bounded): sustained events/s.
2. realtime, live: producer processes send at ``--rate`` events/s (100 cars x N events per
   simulated second) for ``--live-seconds`` while the loader runs continuously; reports events/s,
   the consumer lag over time, p50/p99 from produce (Kafka CreateTime) to the HBase put being
   acknowledged (the row is then visible to readers), and from the produce time of the event that
   closed a window to the Redis transaction holding its alert being executed.
3. batch: status + driving backlog into HDFS (bounded), MB/s, next to a raw WebHDFS upload of the
   same bytes in files of the same size in the same run.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import logging
import multiprocessing as mp
import os
import platform
import re
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest.loaders import feed  # noqa: E402
from ingest.loaders.batch import BatchLoader, BatchOptions  # noqa: E402
from ingest.loaders.hbase_keys import car_prefix, timestamp_of  # noqa: E402
from ingest.loaders.kafka_source import lag  # noqa: E402
from ingest.loaders.realtime import RealtimeLoader, RealtimeOptions  # noqa: E402
from ingest.loaders.redis_sink import closed_key  # noqa: E402
from ingest.simulator import SimulatorConfig, simulate_day  # noqa: E402
from ingest.topics import ensure_topics  # noqa: E402
from pilot.settings import Settings, get_settings  # noqa: E402

SECTION = "## Loaders"
log = logging.getLogger("bench")


def bench_settings() -> Settings:
    return dataclasses.replace(get_settings(), topic_drive="pilot-bench-drive",
                               topic_status="pilot-bench-status", topic_dlq="pilot-bench-dlq")


def _paced_producer(topic: str, lines: list[str], rate: float, seconds: float) -> None:
    """Child process: send ``lines`` (cycled) at ``rate`` lines/s for ``seconds``."""
    s = bench_settings()
    producer = feed.make_producer(s, linger_ms=5)
    started = time.monotonic()
    sent = 0
    tick = 0.05
    while time.monotonic() - started < seconds:
        due = int((time.monotonic() - started + tick) * rate)
        while sent < due and sent < len(lines):
            line = lines[sent]
            producer.send(topic, key=line.split(",", 2)[1].encode(), value=line.encode())
            sent += 1
        if sent >= len(lines):
            break
        time.sleep(max(0.0, started + sent / rate - time.monotonic()))
    producer.flush()
    producer.close()


def realtime_catch_up(s: Settings, lines: list[str]) -> dict[str, Any]:
    group = f"bench-rt-{uuid.uuid4().hex[:8]}"
    feed.start_group_at(s, group, feed.end_offsets(s, s.topic_drive))
    started = time.perf_counter()
    feed.produce(s, s.topic_drive, lines)
    produce_s = time.perf_counter() - started
    report = RealtimeLoader(s, RealtimeOptions(group=group, bounded=True, progress_seconds=5)).run()
    return {"events": report.counts.consumed, "seconds": report.seconds,
            "rate": report.counts.consumed / report.seconds, "produce_rate": len(lines) / produce_s,
            "alerts": report.alerts, "groups": [group]}


def realtime_live(s: Settings, lines: list[str], rate: float, seconds: float,
                  producers: int) -> dict[str, Any]:
    group = f"bench-live-{uuid.uuid4().hex[:8]}"
    feed.start_group_at(s, group, feed.end_offsets(s, s.topic_drive))
    stop = threading.Event()
    loader = RealtimeLoader(s, RealtimeOptions(group=group, progress_seconds=5, poll_records=20_000),
                            stop=stop)
    result: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: result.setdefault("report", loader.run()), daemon=True)
    thread.start()
    time.sleep(8)  # group join
    # cars split over producer processes so that each car's events stay in order
    cars = sorted({line.split(",", 2)[1] for line in lines})
    share = [[line for line in lines if cars.index(line.split(",", 2)[1]) % producers == i]
             for i in range(producers)]
    procs = [mp.get_context("spawn").Process(target=_paced_producer,
                                             args=(s.topic_drive, part, rate / producers, seconds))
             for part in share]
    before = sum(feed.end_offsets(s, s.topic_drive).values())
    started = time.monotonic()
    consumed0 = loader.report.counts.consumed
    for p in procs:
        p.start()
    lags: list[int] = []
    while any(p.is_alive() for p in procs):
        time.sleep(2)
        behind = lag(loader.consumer) if loader.consumer is not None else None
        if behind is not None:
            lags.append(behind)
    produced_s = time.monotonic() - started
    produced = sum(feed.end_offsets(s, s.topic_drive).values()) - before
    deadline = time.monotonic() + 120
    while loader.report.counts.consumed - consumed0 < produced and time.monotonic() < deadline:
        time.sleep(0.5)
    drained_s = time.monotonic() - started
    stop.set()
    thread.join(timeout=60)
    report = result["report"]
    return {"produced": produced, "produce_rate": produced / produced_s,
            "loader_rate": (report.counts.consumed - consumed0) / drained_s,
            "drain_after_s": drained_s - produced_s, "max_lag": max(lags, default=0),
            "final_lag": lags[-1] if lags else 0,
            "put": report.put_latency.summary(), "alert": report.alert_latency.summary(),
            "groups": [group]}


def batch(s: Settings, status: list[str], drive: list[str], date: str, root: str) -> dict[str, Any]:
    from hdfs import InsecureClient

    group = f"bench-batch-{uuid.uuid4().hex[:8]}"
    feed.start_group_at(s, group, {**feed.end_offsets(s, s.topic_status),
                                   **feed.end_offsets(s, s.topic_drive)})
    feed.produce(s, s.topic_status, feed.collected_status(status, date))
    feed.produce(s, s.topic_drive, drive)
    options = BatchOptions(group=group, bounded=True, status_dir=f"{root}/status",
                           drive_dir=f"{root}/drive", progress_seconds=5)
    report = BatchLoader(s, options).run()
    records = sum(c.consumed for c in report.topics.values())
    client = InsecureClient(s.webhdfs_url, user=s.hdfs_user)
    # raw upload: the same bytes, in as many files of the same size
    payload = ("\n".join(f"{line},{date}" for line in status) + "\n" + "\n".join(drive) + "\n").encode()
    files = max(1, report.files)
    size = len(payload) // files + 1
    started = time.perf_counter()
    for i in range(files):
        client.write(f"{root}/raw/part-{i:05d}", data=payload[i * size:(i + 1) * size], overwrite=True)
    raw_s = time.perf_counter() - started
    client.delete(root, recursive=True)
    return {"records": records, "mb": report.bytes / 1e6, "seconds": report.seconds, "files": report.files,
            "rate": records / report.seconds, "mbps": report.bytes / 1e6 / report.seconds,
            "raw_mb": len(payload) / 1e6, "raw_seconds": raw_s, "raw_mbps": len(payload) / 1e6 / raw_s}


def cleanup(s: Settings, date: str, cars: list[str], groups: list[str]) -> None:
    import happybase
    import redis

    r = redis.Redis(host=s.redis_host, port=s.redis_port, password=s.redis_password, db=s.redis_db)
    r.delete(date, *(closed_key(g, date) for g in groups))
    conn = happybase.Connection(s.hbase_host, s.hbase_thrift_port, timeout=60000)
    try:
        table = conn.table(s.hbase_table)
        with table.batch(batch_size=5000) as b:
            for car in cars:
                for key, _ in table.scan(row_prefix=car_prefix(car), columns=[b"cf1:speed"]):
                    if timestamp_of(key).startswith(date):
                        b.delete(key)
    finally:
        conn.close()


def ms(value: float | None) -> str:
    return "–" if value is None else f"{value * 1000:,.0f}"


def render(args: argparse.Namespace, rt: dict[str, Any], live: dict[str, Any], bt: dict[str, Any],
           lines: int) -> str:
    import kafka
    import thriftpy2

    goal_rt = "met" if live["loader_rate"] >= 0.95 * args.rate and live["final_lag"] < args.rate else "missed"
    goal_alert = "met" if (live["alert"]["p99"] or 9e9) < 1.0 else "missed"
    goal_batch = "met" if bt["mbps"] >= bt["raw_mbps"] / 2 else "missed"
    return f"""{SECTION}

`python bench/bench_loaders.py --cars {args.cars} --seconds {args.seconds} --rate {args.rate:.0f} \
--live-seconds {args.live_seconds:.0f}` on {dt.date.today():%Y-%m-%d}; {os.cpu_count()} CPUs shared with
every service of the stack (Kafka, HDFS, HBase, Hive, Airflow, PostgreSQL, Redis) and other users'
work; Python {platform.python_version()}, kafka-python {kafka.__version__}, thriftpy2 {thriftpy2.__version__};
bench topics `pilot-bench-*` with {s_partitions()} partitions.

| run | events | seconds | events/s | notes |
|---|---:|---:|---:|---|
| realtime, catch-up (backlog, bounded) | {rt['events']:,} | {rt['seconds']:.1f} | {rt['rate']:,.0f} | \
{lines:,} driving events of {args.cars} cars; producer alone sent {rt['produce_rate']:,.0f}/s |
| realtime, live at {args.rate:,.0f}/s target | {live['produced']:,} | {args.live_seconds:.0f} | \
{live['loader_rate']:,.0f} | producers reached {live['produce_rate']:,.0f}/s; max lag {live['max_lag']:,}, \
last lag {live['final_lag']:,}; drained {live['drain_after_s']:.1f} s after the producers stopped |
| batch (status + drive into HDFS, bounded) | {bt['records']:,} | {bt['seconds']:.1f} | {bt['rate']:,.0f} | \
{bt['mb']:.1f} MB in {bt['files']} files = **{bt['mbps']:.1f} MB/s** |
| raw WebHDFS upload of the same bytes | – | {bt['raw_seconds']:.1f} | – | {bt['raw_mb']:.1f} MB in \
{bt['files']} files = **{bt['raw_mbps']:.1f} MB/s** |

| latency (live run) | p50 ms | p99 ms | samples |
|---|---:|---:|---:|
| produce -> row visible in HBase (put acknowledged) | {ms(live['put']['p50'])} | {ms(live['put']['p99'])} | \
{live['put']['n']:,} |
| window close (produce of the closing event) -> alert in Redis | {ms(live['alert']['p50'])} | \
{ms(live['alert']['p99'])} | {live['alert']['n']:,} |

The machine is shared: during a run other sessions' tests may restart Kafka or HBase Thrift and
run browsers, and HBase flushes/compacts after earlier runs; figures move by a factor of two or
more between runs. Rerun on a quiet machine before drawing conclusions.

Goals: real-time loader keeps up with {args.rate:,.0f} events/s — **{goal_rt}**; p99 alert latency under
1 s after the window closes — **{goal_alert}**; batch loader at least half the raw upload
throughput — **{goal_batch}**.

What was tried, and where the time goes (cProfile of the real-time loader on a 300,000-event
backlog): about 40 % of the loader's CPU is kafka-python decoding record batches in pure Python
(`_unpack_records`, varints, per-record `ConsumerRecord` tuples); HBase Thrift `mutateRows`
itself tops out at about 20,000–26,000 rows/s of 8 cells on this machine (measured alone, 1,000–5,000
rows per call; two parallel connections did not help, `writeToWAL=False` gave +15 % and is not used).
Done: CRC checks of fetched batches off (`check_crcs=False`, ~5 % CPU in pure Python), Thrift
`Mutation` objects cached (the six low-cardinality fields as one tuple key: three dict lookups per
row instead of eight object constructions), one `mutateRows` per 2,000 rows, one Redis
`MULTI/EXEC` pipeline per poll with a Lua newer-only update per car (not per event), 20,000-record
polls with 64 MB fetches, and the writes of poll N (a sink thread) overlapped with fetching and
parsing poll N+1, committing N only after its writes. The batch loader's cost is the same
per-record decode plus validation (about 25 µs per record), which is why it stays far from the raw
upload rate: raw WebHDFS moves large buffers at disk speed while the loader handles ~50-byte
records one by one. The remaining lever is a C consumer (librdkafka via `confluent-kafka`,
which decodes batches natively), not a change of the loaders' design; it is not a dependency of the
project yet.
"""


def s_partitions() -> int:
    return get_settings().kafka_partitions


def write_section(text: str) -> None:
    path = ROOT / "BENCHMARKS.md"
    current = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(current):
        updated = pattern.sub(lambda _m: text.rstrip() + "\n\n", current)
    else:
        updated = current.rstrip() + "\n\n" + text.rstrip() + "\n"
    path.write_text(updated.rstrip() + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cars", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=3600, help="simulated seconds of the day")
    parser.add_argument("--rate", type=float, default=20_000.0, help="live target events/s")
    parser.add_argument("--live-seconds", type=float, default=45.0)
    parser.add_argument("--producers", type=int, default=2)
    parser.add_argument("--no-report", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    for noisy in ("kafka", "hdfs", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    s = bench_settings()
    ensure_topics(s)
    date = f"2099{uuid.uuid4().int % 12 + 1:02d}{uuid.uuid4().int % 28 + 1:02d}"
    live_date = "2098" + date[4:]
    live_seconds = min(86_400, int(args.rate * args.live_seconds * 2 / args.cars) // 60 * 60 + 60)
    with tempfile.TemporaryDirectory() as tmp:
        simulate_day(tmp, date, cars=args.cars, seed=5,
                     config=SimulatorConfig(day_seconds=args.seconds), only=["status", "drive"])
        status = feed.read_lines(Path(tmp) / f"SmartCarStatusInfo_{date}.txt")
        drive = feed.read_lines(Path(tmp) / f"SmartCarDrivingInfo_{date}.txt")
        simulate_day(tmp, live_date, cars=args.cars, seed=6,
                     config=SimulatorConfig(day_seconds=live_seconds), only=["drive"])
        live_lines = feed.read_lines(Path(tmp) / f"SmartCarDrivingInfo_{live_date}.txt")
    cars = sorted({line.split(",", 2)[1] for line in drive})
    groups: list[str] = []
    try:
        log.info("realtime catch-up on %d events", len(drive))
        rt = realtime_catch_up(s, drive)
        groups += rt["groups"]
        log.info("realtime catch-up: %.0f events/s", rt["rate"])
        live = realtime_live(s, live_lines, args.rate, args.live_seconds, args.producers)
        groups += live["groups"]
        log.info("realtime live: %s", json.dumps({k: v for k, v in live.items() if k != "groups"}))
        bt = batch(s, status, drive, date, f"/tmp/pilot-bench-{uuid.uuid4().hex[:8]}")
        log.info("batch: %s", json.dumps(bt))
    finally:
        cleanup(s, date, cars, groups)
        cleanup(s, live_date, cars, [])
    text = render(args, rt, live, bt, len(drive))
    print(text)
    if not args.no_report:
        write_section(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
