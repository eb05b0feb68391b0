"""The real-time loader: ``SmartCar-Topic`` into HBase ``DriverCarInfo`` and Redis.

Each poll (up to ``poll_records`` events) is handled as one unit:

1. parse every event (bad ones to ``smartcar-dlq``), build its HBase row (key: :mod:`hbase_keys`),
   keep the newest event per car, and feed the overspeed windows (:mod:`windows`);
2. write closed windows' alerts, window progress and latest states in one Redis transaction
   (its own lane: alerts do not wait behind HBase);
3. send all rows to HBase (``mutateRows``, a few thousand rows per call);
4. flush dead letters, then commit per partition the offset of the first event of the oldest
   still-open window (or the next offset when none is open), with the consumed end offset as
   commit metadata (so a restart knows which rejected records already went to the DLQ).

A service that is away (HBase Thrift, Redis) is retried with backoff and a "waiting for ..."
line; nothing is committed before the write went through, so nothing is lost. SIGTERM finishes
the current poll, commits and exits; open windows are rebuilt from Kafka by the next run.

A bounded run may replay its backlog with HBase's bulk load instead (``bulk``, :mod:`hbase_bulk`):
the HBase lane then gathers the rows and loads them as HFiles once the backlog is read (or before
a rebalance takes the partitions), and the offsets are committed after that load.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

from ingest.heartbeat import Heartbeat
from ingest.loaders.dead_letters import DeadLetterSender
from ingest.loaders.gc_tuning import fewer_collections
from ingest.loaders.hbase_bulk import BulkLoad, BulkRows, bulk_line
from ingest.loaders.hbase_sink import HBaseSink, MutationCache
from ingest.loaders.kafka_source import (
    CommitRejected,
    Committed,
    GroupConsumer,
    TopicPartition,
    poll_size,
    reached_ends,
)
from ingest.loaders.redis_sink import RedisSink
from ingest.loaders.report import RealtimeReport, progress_line
from ingest.loaders.retry import Backoff
from ingest.loaders.windows import Closed, OverspeedWindows
from ingest.progress import Tick, Ticker
from ingest.records import Rejected, parse_drive_line
from ingest.stopping import StopFlag, as_stop_flag
from pilot.settings import Settings

log = logging.getLogger(__name__)
ConsumerFactory = Callable[..., Any]  # (group, topics, on_assigned, on_revoked) -> a GroupConsumer
LATENCY_STRIDE = 10  # sample every 10th put for the produce -> HBase latency
# A static member leaves no LeaveGroup behind when it stops: its partitions move on after this.
STATIC_SESSION_MS = 10_000
MAX_ROWS_IN_FLIGHT = 200_000  # rows parsed ahead of their HBase write: rides out ~10 s HBase pauses
# Redis write, HBase write, offsets to commit after both, number of rows
Unit = tuple[Future[None], Future[None], dict[TopicPartition, tuple[int, int]], int]


@dataclass(frozen=True)
class RealtimeOptions:
    group: str = "pilot-realtime-loader"
    bounded: bool = False
    poll_records: int = 20_000
    poll_timeout_ms: int = 100
    grace_seconds: int = 60  # event time: close a stopped car's window this long after it ended
    idle_close_seconds: float = 10.0  # wall clock: close a silent partition's windows (continuous)
    progress_seconds: float = 10.0
    service_timeout: float | None = None
    rows_per_call: int = 2000
    # A static member of the group (the stream service): a restarted process takes its partitions
    # back at once instead of waiting for a rebalance.
    instance_id: str | None = None
    # bounded runs only: HBase's bulk load instead of puts (a backlog, a past day)
    bulk: bool = False


class RealtimeLoader:
    def __init__(self, s: Settings, options: RealtimeOptions = RealtimeOptions(),
                 stop: StopFlag | threading.Event | None = None, hbase: HBaseSink | None = None,
                 redis_sink: RedisSink | None = None, dead_letters: DeadLetterSender | None = None,
                 consumer_factory: ConsumerFactory | None = None,
                 heartbeat: Heartbeat | None = None, bulk_load: BulkLoad | None = None) -> None:
        self.s = s
        self.heartbeat = heartbeat or Heartbeat(None)
        self.options = options
        self.stop = as_stop_flag(stop)
        backoff = Backoff(timeout=options.service_timeout)
        if options.bulk and (not options.bounded or bulk_load is None):
            raise ValueError("a bulk load replays a bounded backlog and needs the loading function")
        self.bulk: BulkRows | None = BulkRows(bulk_load) if bulk_load is not None and options.bulk else None
        self.hbase: Any = self.bulk or hbase or HBaseSink(s, backoff, self.stop, options.rows_per_call)
        self.bulk_offsets: dict[TopicPartition, tuple[int, int]] = {}  # written, committed after the load
        self.redis = redis_sink or RedisSink(s, options.group, backoff, self.stop)
        self.dlq = dead_letters or DeadLetterSender(s, "loader:realtime")
        self.windows = OverspeedWindows(s.overspeed_window_seconds, s.overspeed_speed_kmh,
                                        options.grace_seconds)
        self.mutations = MutationCache(s.hbase_family)
        self.report = RealtimeReport(windows=self.windows.stats)
        self.next_offset: dict[TopicPartition, int] = {}
        self.replay_end: dict[TopicPartition, int] = {}  # consumed end at the last commit (metadata)
        self.last_activity: dict[int, float] = {}
        self.committed: dict[TopicPartition, tuple[int, int]] = {}  # (offset, consumed end)
        self.assigned: set[TopicPartition] = set()
        self.in_flight: deque[Unit] = deque()  # written or being written, not yet committed
        self.rows_in_flight = 0
        self._consumer_factory = consumer_factory
        self.consumer: Any = None

    # ---- rebalance (called inside poll, on this thread) ----------------------------------------
    def _on_assigned(self, committed: dict[TopicPartition, Committed]) -> None:
        """Load window progress and the last commit's metadata of newly assigned partitions."""
        self.windows.load_closed_through(self.redis.load_closed_through())
        self.assigned |= set(committed)
        for tp, (offset, metadata) in committed.items():
            self.replay_end[tp] = _metadata_end(metadata)
            self.last_activity[tp.partition] = time.monotonic()
            log.info("assigned %s/%d: resuming at %s%s", tp.topic, tp.partition,
                     "the earliest offset" if offset is None else f"offset {offset}",
                     f" (replaying up to {self.replay_end[tp]} to rebuild open windows)"
                     if offset is not None and self.replay_end[tp] > offset else "")

    def _on_revoked(self, parts: set[TopicPartition]) -> None:
        """Finish and commit everything polled so far, then forget the partitions' windows."""
        self._complete_all()
        self._publish_bulk()
        self.assigned -= parts
        for tp in parts:
            self.windows.drop_partition(tp.partition)
            for state in (self.next_offset, self.replay_end, self.committed):
                state.pop(tp, None)
            self.last_activity.pop(tp.partition, None)

    # ---- one poll -----------------------------------------------------------------------------
    def _process(self, polled: dict[TopicPartition, list[Any]], ends: dict[TopicPartition, int],
                 now: float) -> tuple[list[Any], list[int], dict[str, tuple[str, str, str]], list[Closed]]:
        rows: list[Any] = []
        stamps: list[int] = []
        latest: dict[str, tuple[str, str, str]] = {}
        closed: list[Closed] = []
        counts = self.report.counts
        row = bulk_line if self.bulk else self.mutations.row
        add = self.windows.add
        for tp, records in polled.items():
            if tp not in self.assigned:
                continue  # revoked meanwhile
            end = ends.get(tp) if ends else None
            replay_end = self.replay_end.get(tp, 0)
            partition = tp.partition
            last = None
            for record in records:
                offset = record.offset()
                if end is not None and offset >= end:
                    break
                last = offset
                counts.consumed += 1
                try:
                    fields = parse_drive_line(record.value())
                except Rejected as exc:
                    counts.rejected += 1
                    counts.reasons[exc.reason] += 1
                    if offset >= replay_end:
                        self.dlq.send(record, exc)
                        self.report.dead_letters_sent += 1
                    else:
                        self.report.dead_letters_replayed += 1
                    continue
                rows.append(row(fields))
                stamp = record.timestamp()[1]
                stamps.append(stamp)
                ts, car = fields[0], fields[1]
                previous = latest.get(car)
                if previous is None or ts > previous[2]:
                    latest[car] = (fields[6], fields[7], ts)
                done = add(partition, offset, car, ts, int(fields[6]), stamp)
                if done is not None:
                    closed.append(done)
            if last is not None:
                self.next_offset[tp] = last + 1
                self.last_activity[partition] = now
        return rows, stamps, latest, closed

    def _timed_out(self, now: float) -> list[Closed]:
        closed = self.windows.close_expired()
        if not self.options.bounded:
            open_partitions = {w.partition for w in self.windows.open_windows()}
            for partition in open_partitions:
                if now - self.last_activity.get(partition, now) >= self.options.idle_close_seconds:
                    closed.extend(self.windows.close_partition(partition))
        return closed

    def _write_redis(self, closed: list[Closed], latest: dict[str, tuple[str, str, str]]) -> None:
        """Redis lane: alerts, window progress and latest states of one poll (one transaction)."""
        self.redis.write(closed, latest)
        alerted_ms = time.time() * 1000
        for c in closed:
            if c.alert and c.closed_by_ms is not None:
                self.report.alert_latency.add((alerted_ms - c.closed_by_ms) / 1000)
        self.report.alerts += sum(1 for c in closed if c.alert)

    def _write_hbase(self, rows: list[Any], stamps: list[int]) -> None:
        """HBase lane: the rows of one poll."""
        self.hbase.send(rows)
        if not self.bulk:  # bulk-loaded rows become visible at the end: no latency to sample
            visible_ms = time.time() * 1000
            lat = self.report.put_latency
            for stamp in stamps[::LATENCY_STRIDE]:
                lat.add((visible_ms - stamp) / 1000)
        self.report.counts.written += len(rows)

    def _safe_offsets(self) -> dict[TopicPartition, tuple[int, int]]:
        """Now, after a poll was processed: per partition (offset safe to commit, consumed end)."""
        by_partition = {tp.partition: off for tp, off in self.next_offset.items()}
        safe = self.windows.commit_offsets(by_partition)
        return {tp: (safe[tp.partition], end) for tp, end in self.next_offset.items()}

    def _commit(self, offsets: dict[TopicPartition, tuple[int, int]]) -> None:
        changed = {tp: pair for tp, pair in offsets.items()
                   if tp in self.assigned and self.committed.get(tp) != pair}
        if not changed:
            return
        metadata = {tp: json.dumps({"end": end}) for tp, (_o, end) in changed.items()}
        try:
            self.consumer.commit({tp: o for tp, (o, _e) in changed.items()}, metadata)
        except CommitRejected as exc:
            # The data is written; the partition moved on, its new owner replays from the last commit.
            log.warning("commit skipped after a rebalance (%s); the data is written, a replay is harmless",
                        exc)
            return
        self.committed.update(changed)

    def _complete_done(self) -> None:
        """Commit the finished units at the head; wait for the oldest when too many rows are
        pending (a long HBase pause then slows polling down instead of growing memory)."""
        while self.in_flight and (self.rows_in_flight > MAX_ROWS_IN_FLIGHT
                                  or all(f.done() for f in self.in_flight[0][:2])):
            self._complete(self.in_flight.popleft())

    def _complete_all(self) -> None:
        while self.in_flight:
            self._complete(self.in_flight.popleft())

    def _complete(self, unit: Unit) -> None:
        """Wait for a unit's writes (both lanes, dead letters), then commit its offsets."""
        redis_done, hbase_done, offsets, rows = unit
        redis_done.result()
        hbase_done.result()
        self.rows_in_flight -= rows
        self.dlq.flush()
        if self.bulk:
            self.bulk_offsets.update(offsets)
        else:
            self._commit(offsets)

    def _publish_bulk(self) -> None:
        """Bulk-load the rows gathered so far, then commit the offsets they cover."""
        if self.bulk is None:
            return
        self.bulk.finish()
        self._commit(self.bulk_offsets)
        self.bulk_offsets = {}

    def _progress(self, tick: Tick) -> str:
        return progress_line("realtime loader", tick, self.consumer.lag(),
                             f"{len(self.windows.open):,} open windows, {self.report.alerts:,} alerts")

    def _beat(self, state: str, force: bool = False) -> None:
        if not self.heartbeat.due(force):
            return
        c = self.report.counts
        self.heartbeat.beat(state, force, group=self.options.group, consumed=c.consumed,
                            written=c.written, rejected=c.rejected, alerts=self.report.alerts,
                            lag=self.consumer.lag(), open_windows=len(self.windows.open),
                            partitions=len(self.assigned))

    # ---- main loop ----------------------------------------------------------------------------
    def run(self) -> RealtimeReport:
        with fewer_collections():  # one Python object per record: see gc_tuning
            return self._run()

    def _run(self) -> RealtimeReport:
        started = time.monotonic()
        self.hbase.ensure_connected()
        factory = self._consumer_factory or partial(GroupConsumer, self.s)
        static = ({"group.instance.id": self.options.instance_id, "session.timeout.ms": STATIC_SESSION_MS}
                  if self.options.instance_id else {})
        self.consumer = factory(self.options.group, [self.s.topic_drive], self._on_assigned, self._on_revoked,
                                **static)
        ends = self.consumer.end_offsets() if self.options.bounded else {}
        ticker = Ticker(self.options.progress_seconds)
        # Writes of poll N overlap with fetching and parsing the next polls; the offsets of N are
        # committed only once its writes are done, in poll order. Two lanes, each in poll order:
        # Redis (small, latency-bound alerts: written as soon as a poll is parsed, even while
        # HBase pauses) and HBase (the bulk).
        redis_lane = ThreadPoolExecutor(max_workers=1, thread_name_prefix="realtime-redis")
        hbase_lane = ThreadPoolExecutor(max_workers=1, thread_name_prefix="realtime-hbase")
        try:
            while not self.stop.is_set():
                want = poll_size(self.consumer.positions, ends, self.options.poll_records)
                polled = self.consumer.poll(want, self.options.poll_timeout_ms / 1000)
                now = time.monotonic()
                rows, stamps, latest, closed = self._process(polled, ends, now)
                closed.extend(self._timed_out(now))
                finished = self.options.bounded and reached_ends(self.consumer.positions, ends)
                if finished:
                    closed.extend(self.windows.close_all())
                offsets = self._safe_offsets()
                self.in_flight.append((redis_lane.submit(self._write_redis, closed, latest),
                                       hbase_lane.submit(self._write_hbase, rows, stamps),
                                       offsets, len(rows)))
                self.rows_in_flight += len(rows)
                self._complete_done()
                if (tick := ticker.due(self.report.counts.consumed)) is not None:
                    log.info(self._progress(tick))
                self._beat("running")
                if finished:
                    break
            self._beat("draining", force=True)
            self._complete_all()
            self._publish_bulk()
            self._beat("stopped", force=True)
        finally:
            redis_lane.shutdown(wait=True)
            hbase_lane.shutdown(wait=True)
            self.consumer.close()
            self.dlq.close()
            self.hbase.close()
        self.report.seconds = time.monotonic() - started
        return self.report


def _metadata_end(metadata: str) -> int:
    try:
        return int(json.loads(metadata).get("end", 0)) if metadata else 0
    except (ValueError, AttributeError):
        return 0
