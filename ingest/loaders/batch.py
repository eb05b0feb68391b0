"""The batch loader: ``smartcar-status`` and ``SmartCar-Topic`` into HDFS ``wrk_date=`` partitions.

One consumer group over both topics. Each topic-partition fills offset blocks (:mod:`blocks`);
a finished block is written through WebHDFS under temporary names, renamed to its final names
(derived from topic kind, partition and offset range, :mod:`hdfs_names`) and only then is the
Kafka offset after it committed. On assignment the loader recovers, from the file names already
in HDFS, the highest offset each topic-partition has there, finishes or removes what a crash
left behind, and seeks past it: a record whose offset a final file covers is never written
again, whatever the roll points were before the crash.

Partitions: a status line goes to the ``wrk_date`` of its 14th field (the collection date the
collector appended). A driving line has no collection date; it goes to the date of its event
time ``r_date[:8]``: the driving stream is collected live, as it happens, so its collection date
is its event date (and a replay of an old stream still lands in the day it belongs to).

Duplicates sent by a collector after its own crash (the same lines at new offsets) are kept as
they come: they are different Kafka records, and the marts, which GROUP BY event id, remove them.
The loader itself never writes one offset twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kafka import TopicPartition

from ingest.loaders.blocks import Block, BlockBuffer
from ingest.loaders.dead_letters import DeadLetterSender
from ingest.loaders.hdfs_names import recover
from ingest.loaders.hdfs_store import HdfsStore
from ingest.loaders.kafka_source import Listener, commit, end_offsets, lag, make_consumer
from ingest.loaders.progress import Ticker, TopicCounts
from ingest.loaders.retry import Backoff
from ingest.records import Rejected, parse_collected_status_line, parse_drive_line
from pilot.settings import Settings

log = logging.getLogger(__name__)

Parser = Callable[[bytes], tuple[str, ...]]


@dataclass(frozen=True)
class BatchOptions:
    group: str = "pilot-batch-loader"
    bounded: bool = False
    roll_records: int = 200_000
    roll_seconds: float = 60.0
    status_dir: str | None = None  # default: settings.hdfs_status_dir
    drive_dir: str | None = None  # default: settings.hdfs_drive_dir
    poll_records: int = 20_000
    progress_seconds: float = 10.0
    service_timeout: float | None = None  # give up on a service after this long (None: never)


@dataclass(frozen=True)
class TopicRoute:
    kind: str
    base: str
    parse: Parser
    date_field: int  # index of the field whose first 8 characters are the wrk_date


@dataclass
class BatchReport:
    topics: dict[str, TopicCounts] = field(default_factory=dict)
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    skipped_in_hdfs: int = 0  # records already covered by a final file (never written twice)

    def reconciles(self) -> bool:
        return all(c.reconciles() for c in self.topics.values())

    def describe(self) -> str:
        lines = []
        for topic, c in self.topics.items():
            reasons = ", ".join(f"{k} {v}" for k, v in sorted(c.reasons.items()))
            lines.append(f"  {topic:<16} consumed {c.consumed:>10,} = written {c.written:>10,} + rejected "
                         f"{c.rejected:>8,}" + (f" ({reasons})" if reasons else ""))
        rate = sum(c.consumed for c in self.topics.values()) / max(self.seconds, 1e-9)
        lines.append(f"  {self.files} file(s), {self.bytes / 1e6:.1f} MB in {self.seconds:.1f} s "
                     f"({rate:,.0f} records/s)" + (f"; {self.skipped_in_hdfs:,} already in HDFS"
                                                   if self.skipped_in_hdfs else ""))
        return "\n".join(lines)


class BatchLoader:
    def __init__(self, s: Settings, options: BatchOptions = BatchOptions(),
                 stop: threading.Event | None = None, store: HdfsStore | None = None,
                 dead_letters: DeadLetterSender | None = None,
                 consumer_factory: Callable[[Listener], Any] | None = None) -> None:
        self.s = s
        self.options = options
        self.stop = stop or threading.Event()
        backoff = Backoff(timeout=options.service_timeout)
        self.store = store or HdfsStore(s, backoff, self.stop)
        self.dlq = dead_letters or DeadLetterSender(s, "loader:batch")
        self.routes = {
            s.topic_status: TopicRoute("status", options.status_dir or s.hdfs_status_dir,
                                       parse_collected_status_line, 13),
            s.topic_drive: TopicRoute("drive", options.drive_dir or s.hdfs_drive_dir, parse_drive_line, 0),
        }
        self.report = BatchReport(topics={t: TopicCounts() for t in self.routes})
        self.buffers: dict[TopicPartition, BlockBuffer] = {}
        self.floor: dict[TopicPartition, int] = {}  # first offset not yet in HDFS (recovered)
        self.pending_assigned: set[TopicPartition] = set()
        self._consumer_factory = consumer_factory
        self.consumer: Any = None

    # ---- rebalance ----------------------------------------------------------------------------
    def _on_assigned(self, parts: set[TopicPartition]) -> None:
        """Network thread: note only; :meth:`_recover` runs in the main loop."""
        self.pending_assigned |= parts
        for tp in parts:
            self.floor[tp] = 1 << 62  # hold records back until the partition is recovered

    def _recover(self) -> None:
        """Recover newly assigned partitions from HDFS and seek past what is there already."""
        parts, self.pending_assigned = self.pending_assigned, set()
        listings: dict[str, list[tuple[str, str]]] = {}
        for tp in sorted(parts):
            route = self.routes[tp.topic]
            if route.base not in listings:
                listings[route.base] = self.store.listing(route.base)
            rec = recover(listings[route.base], route.kind, tp.partition)
            self.store.apply(rec)
            committed = self.consumer.committed(tp)
            start = max(x for x in (rec.next_offset, committed, 0) if x is not None)
            # Records of this partition already returned by the poll below `start` are skipped
            # (floor); seek only forwards, past records the poll has not returned yet.
            self.floor[tp] = start
            self.buffers[tp] = BlockBuffer(route.kind, tp.partition, self.options.roll_records)
            if self.consumer.position(tp) < start:
                self.consumer.seek(tp, start)
            log.info("assigned %s/%d: HDFS has up to %s, group committed %s; resuming at offset %d",
                     tp.topic, tp.partition,
                     "nothing" if rec.last_offset is None else f"offset {rec.last_offset}",
                     committed, start)

    def _on_revoked(self, parts: set[TopicPartition]) -> None:
        """Network thread: drop unwritten blocks; the new owner reads them again from the commit."""
        for tp in parts:
            self.buffers.pop(tp, None)
            self.floor.pop(tp, None)
        self.pending_assigned -= parts

    # ---- consuming ----------------------------------------------------------------------------
    def _consume(self, tp: TopicPartition, records: list[Any], now: float, ready: list[Block]) -> None:
        route = self.routes[tp.topic]
        counts = self.report.topics[tp.topic]
        buffer = self.buffers.get(tp)
        if buffer is None:  # records fetched for a partition revoked meanwhile
            return
        floor = self.floor.get(tp, 0)
        parse, date_at = route.parse, route.date_field
        for record in records:
            if record.offset < floor:
                self.report.skipped_in_hdfs += 1
                continue
            counts.consumed += 1
            try:
                fields = parse(record.value)
            except Rejected as exc:
                counts.rejected += 1
                counts.reasons[exc.reason] += 1
                self.dlq.send(record, exc)
                done = buffer.add(record.offset, None, None, now)
            else:
                done = buffer.add(record.offset, fields[date_at][:8], ",".join(fields), now)
            if done is not None:
                ready.append(done)
        if buffer.full():
            ready.append(buffer.take())  # type: ignore[arg-type]

    def _flush(self, blocks: list[Block]) -> None:
        """Write, rename, then commit: the order that makes a crash at any point harmless."""
        if not blocks:
            return
        offsets: dict[TopicPartition, int] = {}
        for block in blocks:
            topic = self._topic_of(block)
            files, nbytes = self.store.write_block(self.routes[topic].base, block)
            self.report.files += files
            self.report.bytes += nbytes
            self.report.topics[topic].written += block.written
            tp = TopicPartition(topic, block.partition)
            offsets[tp] = max(offsets.get(tp, 0), block.last + 1)
            log.debug("wrote %s (%d lines, %d bytes)", block.name.final, block.written, nbytes)
        self.dlq.flush()
        if self.consumer is not None:
            commit(self.consumer, offsets)

    def _topic_of(self, block: Block) -> str:
        return next(t for t, r in self.routes.items() if r.kind == block.kind)

    def _bounded_done(self, ends: dict[TopicPartition, int]) -> bool:
        assigned = self.consumer.assignment()
        if not assigned:
            return False
        return all(self.consumer.position(tp) >= ends.get(tp, 0) for tp in assigned)

    def _lag_text(self) -> str:
        behind = lag(self.consumer)
        pending = sum(b.block.records for b in self.buffers.values() if b.block)
        return f"lag {'?' if behind is None else f'{behind:,}'}, {pending:,} buffered, " \
               f"{self.report.files} files, {self.store.bytes_written / 1e6:.1f} MB written"

    # ---- main loop ----------------------------------------------------------------------------
    def run(self) -> BatchReport:
        started = time.monotonic()
        listener = Listener(self._on_assigned, self._on_revoked)
        if self._consumer_factory is not None:
            self.consumer = self._consumer_factory(listener)
        else:
            self.consumer = make_consumer(self.s, self.options.group, list(self.routes), listener)
        ends = end_offsets(self.consumer, self.routes) if self.options.bounded else {}
        if ends:
            log.info("bounded run: reading up to end offsets %s",
                     {f"{tp.topic}/{tp.partition}": o for tp, o in sorted(ends.items())})
        ticker = Ticker("batch loader", self.options.progress_seconds)
        try:
            while not self.stop.is_set():
                polled = self.consumer.poll(timeout_ms=500, max_records=self.options.poll_records)
                if self.pending_assigned:
                    self._recover()
                now = time.monotonic()
                ready: list[Block] = []
                for tp, records in polled.items():
                    if ends and tp in ends:
                        records = [r for r in records if r.offset < ends[tp]]
                    self._consume(tp, records, now, ready)
                for buffer in self.buffers.values():
                    if buffer.due(now, self.options.roll_seconds):
                        ready.append(buffer.take())  # type: ignore[arg-type]
                self._flush(ready)
                consumed = sum(c.consumed for c in self.report.topics.values())
                ticker.maybe(consumed, self._lag_text)
                if self.options.bounded and self._bounded_done(ends):
                    break
            self._flush([b for buf in self.buffers.values() if (b := buf.take())])
        finally:
            self.consumer.close(autocommit=False)
            self.dlq.close()
        self.report.seconds = time.monotonic() - started
        return self.report
