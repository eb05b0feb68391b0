"""Loader throughput and latency on the real stack; writes the ``## Loaders`` section of BENCHMARKS.md.

Usage: python bench/bench_loaders.py [--cars 100] [--seconds 3600] [--rate 20000] [--live-seconds 45]
                                     [--batch-seconds 14400] [--batch-rounds 3] [--no-report]

Runs on separate bench topics (``pilot-bench-*``, created if missing) and a date far in the future,
so the shared topics and the real partitions are untouched; HBase rows, Redis keys and HDFS
folders of the run are deleted at the end.

1. realtime, catch-up: the whole day's driving events are produced first, then the real-time loader
   reads them (bounded): sustained events/s.
2. realtime, live: the project's live collector (``pilot collect live --rate``, its own process)
   sends at ``--rate`` events/s for ``--live-seconds`` while the loader runs continuously; reports events/s,
   the consumer lag over time, p50/p99 from produce (Kafka CreateTime) to the HBase put being
   acknowledged (the row is then visible to readers), and from the produce time of the event that
   closed a window to the Redis transaction holding its alert being executed.
3. batch: a status + driving backlog (``--batch-seconds`` of simulated time) into HDFS (bounded), MB/s,
   next to a raw WebHDFS upload of the same bytes in files of the same size; ``--batch-rounds``
   interleaved rounds (loader, then raw upload), the fastest of each reported with the slowest.
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
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from report import add_report_options, command_line, publish  # noqa: E402 - bench/ is the script's folder

from ingest.loaders.batch import BatchLoader, BatchOptions  # noqa: E402
from ingest.loaders.realtime import RealtimeLoader, RealtimeOptions  # noqa: E402
from ingest.loaders.redis_sink import closed_key  # noqa: E402
from ingest.simulator import SimulatorConfig, simulate_day  # noqa: E402
from ingest.topics import ensure_topics  # noqa: E402
from pilot.settings import Settings, get_settings  # noqa: E402
from stack.services import hbase as hbase_service  # noqa: E402
from tests.support import feed  # noqa: E402
from tests.support.hbase import drop_table  # noqa: E402

SECTION = "## Loaders"
LIVE_SEED = 6
BENCH_TABLE = "PilotBenchDriverCarInfo"  # created for the run and dropped after it
log = logging.getLogger("bench")


def bench_settings() -> Settings:
    return dataclasses.replace(get_settings(), topic_drive="pilot-bench-drive",
                               topic_status="pilot-bench-status", topic_dlq="pilot-bench-dlq",
                               hbase_table=BENCH_TABLE)


def _live_collector(date: str, cars: int, rate: float, limit: int, results: Any) -> None:
    """Child process: the project's live collector (``pilot collect live``) at ``rate`` events/s."""
    from ingest.collectors.live import LiveOptions, run_live

    logging.basicConfig(level=logging.WARNING)
    report = run_live(bench_settings(), LiveOptions(date=date, cars=cars, seed=LIVE_SEED, rate=rate,
                                                    limit=limit, progress_every=0, from_scratch=True))
    results.put((report.produced, report.seconds))


def consumers_alone(s: Settings, events: int) -> dict[str, tuple[int, float]]:
    """The reference for the loaders' Kafka side: read the last ``events`` driving events (values
    only, nothing else done with them) with kafka-python and with the loaders' consumer."""
    from kafka import KafkaConsumer

    from ingest.loaders.kafka_source import GroupConsumer

    ends = feed.end_offsets(s, s.topic_drive)
    starts = {tp: max(0, end - events // len(ends)) for tp, end in ends.items()}
    wanted = sum(ends[tp] - starts[tp] for tp in ends)
    out: dict[str, tuple[int, float]] = {}
    kp = KafkaConsumer(bootstrap_servers=s.kafka_bootstrap, enable_auto_commit=False, check_crcs=False,
                       fetch_max_bytes=64 * 1024 * 1024, max_partition_fetch_bytes=8 * 1024 * 1024)
    try:
        kp.assign(list(ends))
        for tp, start in starts.items():
            kp.seek(tp, start)
        got, began = 0, time.perf_counter()
        while got < wanted:
            for records in kp.poll(timeout_ms=500, max_records=20_000).values():
                got += len([r.value for r in records])
        out["kafka-python"] = (got, time.perf_counter() - began)
    finally:
        kp.close()
    gc = GroupConsumer(s, f"bench-alone-{uuid.uuid4().hex[:8]}", [s.topic_drive],
                       lambda committed: {tp: starts[tp] for tp in committed}, lambda revoked: None)
    try:
        got, began = 0, time.perf_counter()
        while got < wanted:
            for records in gc.poll(20_000, 0.5).values():
                got += len([m.value() for m in records])
        out["confluent-kafka"] = (got, time.perf_counter() - began)
    finally:
        gc.close()
    return out


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


def start_live_loader(s: Settings, group: str, starts: dict[Any, int]) -> tuple[
        RealtimeLoader, threading.Thread, threading.Event, dict[str, Any]]:
    """The real-time loader, continuous, in a thread, for a new ``group`` starting at ``starts``,
    once it has joined its group; ``result["report"]`` holds its report after ``stop`` is set."""
    feed.start_group_at(s, group, starts)
    stop = threading.Event()
    loader = RealtimeLoader(s, RealtimeOptions(group=group, progress_seconds=5), stop=stop)
    result: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: result.setdefault("report", loader.run()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not (loader.consumer is not None and loader.assigned) and time.monotonic() < deadline:
        time.sleep(0.2)  # group join
    return loader, thread, stop, result


def realtime_live(s: Settings, date: str, cars: int, rate: float, seconds: float) -> dict[str, Any]:
    group = f"bench-live-{uuid.uuid4().hex[:8]}"
    loader, thread, stop, result = start_live_loader(s, group, feed.end_offsets(s, s.topic_drive))
    # the load: the live collector in its own process (its own GIL), paced at `rate`
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    producer = ctx.Process(target=_live_collector, args=(date, cars, rate, int(rate * seconds), results))
    before = sum(feed.end_offsets(s, s.topic_drive).values())
    started = time.monotonic()
    consumed0 = loader.report.counts.consumed
    written0 = loader.report.counts.written
    producer.start()
    lags: list[int] = []
    while producer.is_alive():
        time.sleep(1)
        behind = loader.consumer.lag()
        if behind is not None:
            lags.append(behind)
    produced_s = time.monotonic() - started
    produced = sum(feed.end_offsets(s, s.topic_drive).values()) - before
    sent, sending_s = results.get(timeout=10)
    deadline = time.monotonic() + 120
    counts = loader.report.counts
    # done = every event consumed AND its row acknowledged by HBase (the slower of the two lanes)
    while (counts.consumed - consumed0 < produced or counts.written - written0 < produced - counts.rejected) \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    drained_s = time.monotonic() - started
    stop.set()
    thread.join(timeout=60)
    report = result["report"]
    return {"produced": produced, "produce_rate": sent / sending_s,
            "consumed": report.counts.consumed - consumed0,
            "loader_rate": (report.counts.consumed - consumed0) / drained_s,
            "drain_after_s": drained_s - produced_s, "max_lag": max(lags, default=0),
            "final_lag": lags[-1] if lags else 0,
            "put": report.put_latency.summary(), "alert": report.alert_latency.summary(),
            "groups": [group]}


def batch_round(s: Settings, group: str, start: dict[Any, int], root: str, n: int,
                payload: bytes) -> dict[str, Any]:
    """One round: the loader reads the backlog (a fresh group at its start), then the same bytes are
    uploaded raw, in as many files of the same size."""
    from hdfs import InsecureClient

    feed.start_group_at(s, group, start)
    options = BatchOptions(group=group, bounded=True, status_dir=f"{root}/status",
                           drive_dir=f"{root}/drive", progress_seconds=5)
    report = BatchLoader(s, options).run()
    client = InsecureClient(s.webhdfs_url, user=s.hdfs_user)
    files = max(1, report.files)
    size = len(payload) // files + 1
    started = time.perf_counter()
    for i in range(files):
        client.write(f"{root}/raw/part-{i:05d}", data=payload[i * size:(i + 1) * size], overwrite=True)
    raw_s = time.perf_counter() - started
    client.delete(root, recursive=True)
    records = sum(c.consumed for c in report.topics.values())
    if records != n:
        raise RuntimeError(f"batch round read {records:,} records, expected {n:,}")
    log.info("batch round: loader %.1f MB/s, raw %.1f MB/s", report.bytes / 1e6 / report.seconds,
             len(payload) / 1e6 / raw_s)
    return {"records": records, "mb": report.bytes / 1e6, "seconds": report.seconds, "files": report.files,
            "rate": records / report.seconds, "mbps": report.bytes / 1e6 / report.seconds,
            "raw_mb": len(payload) / 1e6, "raw_seconds": raw_s, "raw_mbps": len(payload) / 1e6 / raw_s}


def batch_consumer_alone(s: Settings, start: dict[Any, int]) -> tuple[int, float]:
    """The loaders' consumer reading the batch backlog, values only, timed like a loader run (from
    joining the group, with the loaders' GC setting): the floor under the batch loader's time."""
    from ingest.loaders.gc_tuning import fewer_collections
    from ingest.loaders.kafka_source import GroupConsumer, TopicPartition, poll_size, reached_ends

    starts = {TopicPartition(tp.topic, tp.partition): o for tp, o in start.items()}
    with fewer_collections():
        began = time.perf_counter()
        consumer = GroupConsumer(s, f"bench-alone-{uuid.uuid4().hex[:8]}", [s.topic_status, s.topic_drive],
                                 lambda committed: {tp: starts[tp] for tp in committed}, lambda revoked: None)
        try:
            ends, got = consumer.end_offsets(), 0
            while not reached_ends(consumer.positions, ends):
                for records in consumer.poll(poll_size(consumer.positions, ends, 20_000), 0.5).values():
                    got += len([m.value() for m in records])
            return got, time.perf_counter() - began
        finally:
            consumer.close()


def batch(s: Settings, status: list[str], drive: list[str], date: str, rounds: int) -> dict[str, Any]:
    """The backlog is produced once; each round reads all of it. Rounds interleave loader and raw
    upload, so both see the same conditions; the fastest of each is reported, with the spread."""
    start = {**feed.end_offsets(s, s.topic_status), **feed.end_offsets(s, s.topic_drive)}
    feed.produce(s, s.topic_status, feed.collected_status(status, date))
    feed.produce(s, s.topic_drive, drive)
    payload = ("\n".join(f"{line},{date}" for line in status) + "\n" + "\n".join(drive) + "\n").encode()
    groups = [f"bench-batch-{uuid.uuid4().hex[:8]}" for _ in range(rounds)]
    runs = [batch_round(s, group, start, f"/tmp/pilot-bench-{uuid.uuid4().hex[:8]}",
                        len(status) + len(drive), payload) for group in groups]
    alone = min((batch_consumer_alone(s, start) for _ in range(rounds)), key=lambda r: r[1])
    best = max(runs, key=lambda r: r["mbps"])
    best_raw = max(runs, key=lambda r: r["raw_mbps"])
    return {**best, "raw_seconds": best_raw["raw_seconds"], "raw_mbps": best_raw["raw_mbps"],
            "rounds": rounds, "loader_range": (min(r["mbps"] for r in runs), best["mbps"]),
            "raw_range": (min(r["raw_mbps"] for r in runs), best_raw["raw_mbps"]),
            "alone": alone, "groups": groups, "status_lines": len(status), "drive_lines": len(drive)}


def cleanup(s: Settings, dates: list[str], groups: list[str]) -> None:
    """Remove the run's Redis keys and drop its HBase table (no tombstones left for compactions)."""
    import redis

    r = redis.Redis(host=s.redis_host, port=s.redis_port, password=s.redis_password, db=s.redis_db)
    keys = [*dates, *(closed_key(g, date) for g in groups for date in dates)]
    if keys:
        r.delete(*keys)
    drop_table(s)


def ms(value: float | None) -> str:
    return "–" if value is None else f"{value * 1000:,.0f}"


def render(args: argparse.Namespace, rt: dict[str, Any], live: dict[str, Any], bt: dict[str, Any],
           alone: dict[str, tuple[int, float]], lines: int) -> str:
    import confluent_kafka
    import kafka
    import thriftpy2

    kept_up = (live["produce_rate"] >= 0.95 * args.rate and live["consumed"] >= live["produced"]
               and live["drain_after_s"] <= 2.0)
    goal_rt = "met" if kept_up else "missed"
    goal_alert = "met" if (live["alert"]["p99"] or 9e9) < 1.0 else "missed"
    goal_batch = "met" if bt["mbps"] >= bt["raw_mbps"] / 2 else "missed"
    half_raw = bt["raw_mbps"] / 2
    why_batch = textwrap.fill(
        "Why the batch goal is missed: half the raw upload is "
        f"{half_raw:.1f} MB/s, {bt['raw_mb'] / half_raw:.2f} s for this backlog; the loaders' "
        f"consumer alone takes {bt['alone'][1]:.2f} s to hand over its {bt['alone'][0]:,} records "
        "(librdkafka makes one Python message object per record), before any validation, routing or "
        "writing. A loader run on this backlog, profiled with py-spy: start-up about 0.25 s (group join, "
        "recovery listing of HDFS, first fetch), consuming about 1 µs per record, grouping by partition "
        "0.15 µs, bulk validation 0.24 µs (driving) to 0.34 µs (status) per line, and the last blocks' "
        "writes about 0.3 s after the last poll. A prototype that fetched raw record batches with "
        "kafka-python and cut the values out of each decompressed batch with one regular expression (no "
        "per-record objects) read and validated the same records in 0.95 s (measured once, not part of "
        "this script): it would save the validation and grouping time, not reach half of a raw upload at "
        "these speeds, and it depends on kafka-python's private batch internals, so it was not adopted. "
        "The goal dates from when HDFS made every file close wait up to 400 ms and raw uploads ran at 5-8 "
        "MB/s; keeping that wait would have \"met\" it. The machine is shared with every service and other "
        "work; figures move by tens of percent between runs.", 100, break_on_hyphens=False)
    alone_rows = "\n".join(
        f"| {name} consumer alone (values only, reference) | {n:,} | {sec:.2f} | {n / sec:,.0f} | "
        f"same backlog, nothing done with the records |" for name, (n, sec) in alone.items())
    return f"""{SECTION}

`python bench/bench_loaders.py --cars {args.cars} --seconds {args.seconds} --rate {args.rate:.0f} \
--live-seconds {args.live_seconds:.0f} \
--batch-seconds {args.batch_seconds} --batch-rounds {args.batch_rounds}` on {dt.date.today():%Y-%m-%d}; \
{os.cpu_count()} CPUs shared with
every service of the stack (Kafka, HDFS, HBase, Hive, Airflow, PostgreSQL, Redis); Python
{platform.python_version()}, confluent-kafka {confluent_kafka.__version__} (librdkafka \
{confluent_kafka.libversion()[0]}) in the loaders, kafka-python {kafka.__version__} in the producers, \
thriftpy2 {thriftpy2.__version__}; bench topics `pilot-bench-*` with {s_partitions()} partitions; a \
fresh HBase table `{BENCH_TABLE}` (dropped afterwards).

| run | events | seconds | events/s | notes |
|---|---:|---:|---:|---|
| realtime, catch-up (backlog, bounded) | {rt['events']:,} | {rt['seconds']:.1f} | {rt['rate']:,.0f} | \
{lines:,} driving events of {args.cars} cars |
{alone_rows}
| realtime, live at {args.rate:,.0f}/s target | {live['produced']:,} | {args.live_seconds:.0f} | \
{live['loader_rate']:,.0f} | the live collector sent {live['produce_rate']:,.0f}/s; every event consumed and \
its HBase row written {live['drain_after_s']:.1f} s after it stopped |
| batch (status + drive into HDFS, bounded) | {bt['records']:,} | {bt['seconds']:.2f} | {bt['rate']:,.0f} | \
{bt['mb']:.1f} MB in {bt['files']} files = **{bt['mbps']:.1f} MB/s** (fastest of {bt['rounds']} rounds; \
slowest {bt['loader_range'][0]:.1f}) |
| loaders' consumer alone on the batch backlog (values only, reference) | {bt['alone'][0]:,} | \
{bt['alone'][1]:.2f} | {bt['alone'][0] / bt['alone'][1]:,.0f} | fastest of {bt['rounds']}; timed like a \
loader run, from joining the group |
| raw WebHDFS upload of the same bytes | – | {bt['raw_seconds']:.2f} | – | {bt['raw_mb']:.1f} MB in \
{bt['files']} files = **{bt['raw_mbps']:.1f} MB/s** (fastest of {bt['rounds']} rounds; slowest \
{bt['raw_range'][0]:.1f}) |

| latency (live run) | p50 ms | p99 ms | samples |
|---|---:|---:|---:|
| produce -> row visible in HBase (put acknowledged) | {ms(live['put']['p50'])} | {ms(live['put']['p99'])} | \
{live['put']['n']:,} |
| window close (produce of the closing event) -> alert in Redis | {ms(live['alert']['p50'])} | \
{ms(live['alert']['p99'])} | {live['alert']['n']:,} |

Goals: real-time loader keeps up with {args.rate:,.0f} events/s — **{goal_rt}**; p99 alert latency under
1 s after the window closes — **{goal_alert}**; batch loader at least half the raw upload
throughput — **{goal_batch}**.

How: both loaders consume through librdkafka (decoding in C, prefetching in the background;
compare the two "consumer alone" rows: kafka-python decodes every record in Python). The
real-time loader goes on parsing polls while earlier ones are written, in two lanes: Redis
(alerts, written as soon as a poll is parsed) and HBase (cached Thrift `Mutation` objects, one
`mutateRows` per 2,000 rows, up to 200,000 rows waiting), and commits a poll's offsets, in order,
once both lanes wrote it. So an HBase pause (flush, GC: the HBase p99 above) delays rows, not
alerts. HBase (RegionServer + Thrift server) costs about 30 µs of CPU per 8-cell row here, the
largest share of the machine at 20,000 events/s.

The batch loader validates a poll's lines in bulk: one regular expression over the joined block,
which also checks, with back references, that every line has the first line's event date (and
collection date), so no per-line date lists are built; line by line only when a block holds a bad
line or two days. Finished blocks are written by three writer lanes (a partition's blocks always
in one lane, in offset order) while it consumes. Both loaders raise CPython's generation-0 GC
threshold while they run: with one Python object per record, the default made the collector run
thousands of times per million records (batch loader +15-25 %).

{why_batch}

Before (first version, same day: kafka-python consumers, one write thread, line-by-line batch
validation, HDFS's default 400 ms close wait): real-time catch-up 14,517 events/s, live run
with p99 alert latency 34 s (the loader fell behind), batch 1.6 MB/s next to a raw upload of
5.0 MB/s. Before the one-pass date check (a 1-hour backlog, one round): batch 10.5 MB/s next to
a raw upload of 31.4 MB/s.
"""


def s_partitions() -> int:
    return get_settings().kafka_partitions


def main(argv: list[str] | None = None) -> int:
    parser = command_line(__doc__)
    parser.add_argument("--cars", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=3600, help="simulated seconds of the day")
    parser.add_argument("--rate", type=float, default=20_000.0, help="live target events/s")
    parser.add_argument("--live-seconds", type=float, default=45.0)
    parser.add_argument("--batch-seconds", type=int, default=4 * 3600,
                        help="simulated seconds of the batch loader's backlog (status + driving)")
    parser.add_argument("--batch-rounds", type=int, default=3)
    add_report_options(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    for noisy in ("kafka", "hdfs", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    s = bench_settings()
    ensure_topics(s)
    cleanup(s, [], [])  # a table left by an interrupted run
    hbase_service.bootstrap(s)  # a fresh table, as on a new installation
    date = f"2099{uuid.uuid4().int % 12 + 1:02d}{uuid.uuid4().int % 28 + 1:02d}"
    live_date = "2098" + date[4:]
    batch_date = f"2097{date[4:]}"
    with tempfile.TemporaryDirectory() as tmp:
        simulate_day(tmp, date, cars=args.cars, seed=5,
                     config=SimulatorConfig(day_seconds=args.seconds), only=["drive"])
        simulate_day(tmp, batch_date, cars=args.cars, seed=5,
                     config=SimulatorConfig(day_seconds=args.batch_seconds), only=["status", "drive"])
        drive = feed.read_lines(Path(tmp) / f"SmartCarDrivingInfo_{date}.txt")
        batch_status = feed.read_lines(Path(tmp) / f"SmartCarStatusInfo_{batch_date}.txt")
        batch_drive = feed.read_lines(Path(tmp) / f"SmartCarDrivingInfo_{batch_date}.txt")
    groups: list[str] = []
    try:
        log.info("realtime catch-up on %d events", len(drive))
        rt = realtime_catch_up(s, drive)
        groups += rt["groups"]
        alone = consumers_alone(s, len(drive))
        log.info("realtime catch-up: %.0f events/s", rt["rate"])
        live = realtime_live(s, live_date, args.cars, args.rate, args.live_seconds)
        groups += live["groups"]
        log.info("realtime live: %s", json.dumps({k: v for k, v in live.items() if k != "groups"}))
        bt = batch(s, batch_status, batch_drive, batch_date, args.batch_rounds)
        groups += bt["groups"]
        log.info("batch: %s", json.dumps({k: v for k, v in bt.items() if k != "groups"}))
    finally:
        cleanup(s, [date, live_date, batch_date], groups)
    publish(render(args, rt, live, bt, alone, len(drive)), args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
