"""The batch loader: ``smartcar-status`` and ``SmartCar-Topic`` into HDFS ``wrk_date=`` partitions.

One consumer group over both topics. Each topic-partition fills offset blocks (:mod:`blocks`);
a finished block is written through WebHDFS under temporary names, renamed to its final names
(derived from topic kind, partition and offset range, :mod:`hdfs_names`) and only then is the
Kafka offset after it committed. On assignment the loader recovers, from the file names already
in HDFS, the highest offset each topic-partition has there, finishes or removes what a crash
left behind, and starts after it: a record whose offset a final file covers is never written
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

import bisect
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

from ingest.loaders.blocks import Block, BlockBuffer
from ingest.loaders.dead_letters import DeadLetterSender
from ingest.loaders.gc_tuning import fewer_collections
from ingest.loaders.hdfs_names import recover
from ingest.loaders.hdfs_store import HdfsStore
from ingest.loaders.kafka_source import (
    CommitRejected,
    Committed,
    GroupConsumer,
    TopicPartition,
    poll_size,
    reached_ends,
)
from ingest.loaders.report import BatchReport, TopicCounts, progress_line
from ingest.loaders.retry import Backoff
from ingest.progress import Tick, Ticker
from ingest.records import Rejected, canonical_block, parse_collected_status_line, parse_drive_line
from ingest.stopping import StopFlag, as_stop_flag
from pilot.settings import Settings

log = logging.getLogger(__name__)

Parser = Callable[[bytes], tuple[str, ...]]
WRITER_LANES = 3  # blocks of one partition always take the same lane: written in offset order
MAX_WRITES_IN_FLIGHT = 8  # blocks handed to the writers and not yet committed (bounds memory)


def _offset(record: Any) -> int:
    return record.offset()


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


class BatchLoader:
    def __init__(self, s: Settings, options: BatchOptions = BatchOptions(),
                 stop: StopFlag | threading.Event | None = None, store: HdfsStore | None = None,
                 dead_letters: DeadLetterSender | None = None,
                 consumer_factory: Callable[..., Any] | None = None) -> None:
        self.s = s
        self.options = options
        self.stop = as_stop_flag(stop)
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
        self.writers = [ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"batch-writer-{lane}")
                        for lane in range(WRITER_LANES)]
        self.in_flight: deque[Future[dict[TopicPartition, int]]] = deque()
        self.report_lock = threading.Lock()
        self._consumer_factory = consumer_factory
        self.consumer: Any = None

    # ---- rebalance (called inside poll, on this thread) ----------------------------------------
    def _on_assigned(self, committed: dict[TopicPartition, Committed]) -> dict[TopicPartition, int]:
        """Recover newly assigned partitions from HDFS; start each after what HDFS holds already."""
        listings: dict[str, list[tuple[str, str]]] = {}
        starts: dict[TopicPartition, int] = {}
        for tp in sorted(committed):
            route = self.routes[tp.topic]
            if route.base not in listings:
                listings[route.base] = self.store.listing(route.base)
            rec = recover(listings[route.base], route.kind, tp.partition)
            self.store.apply(rec)
            group_offset = committed[tp].offset
            start = max(x for x in (rec.next_offset, group_offset, 0) if x is not None)
            self.floor[tp] = start  # a record below it is in HDFS already: never written again
            self.report.skipped_in_hdfs += start - (group_offset or 0)  # not even read again
            self.buffers[tp] = BlockBuffer(route.kind, tp.partition, self.options.roll_records)
            starts[tp] = start
            log.info("assigned %s/%d: HDFS has up to %s, group committed %s; resuming at offset %d",
                     tp.topic, tp.partition,
                     "nothing" if rec.last_offset is None else f"offset {rec.last_offset}",
                     group_offset, start)
        return starts

    def _on_revoked(self, parts: set[TopicPartition]) -> None:
        """Drop unwritten blocks; the new owner reads them again from the commit.

        Blocks already handed to the writer are finished first, so the new owner's recovery sees
        them renamed (and resumes after them) instead of racing their writes.
        """
        for future in list(self.in_flight):
            future.exception()  # waits; a failed write is simply read again by the new owner
        for tp in parts:
            self.buffers.pop(tp, None)
            self.floor.pop(tp, None)

    # ---- consuming ----------------------------------------------------------------------------
    def _consume(self, tp: TopicPartition, records: list[Any], now: float, ready: list[Block]) -> None:
        buffer = self.buffers.get(tp)
        if buffer is None:  # records fetched for a partition revoked meanwhile
            return
        floor = self.floor.get(tp, 0)
        if records and records[0].offset() < floor:
            kept = bisect.bisect_left(records, floor, key=_offset)
            self.report.skipped_in_hdfs += kept
            records = records[kept:]
        roll = self.options.roll_records
        start = 0
        while start < len(records):
            # one deterministic block at a time: all of it valid -> one bulk append
            limit = (records[start].offset() // roll + 1) * roll
            end = bisect.bisect_left(records, limit, lo=start, key=_offset)
            self._consume_segment(tp, buffer, records[start:end], now, ready)
            start = end
        if buffer.full():
            ready.append(buffer.take())  # type: ignore[arg-type]

    def _consume_segment(self, tp: TopicPartition, buffer: BlockBuffer, records: list[Any], now: float,
                         ready: list[Block]) -> None:
        route = self.routes[tp.topic]
        counts = self.report.topics[tp.topic]
        fast = canonical_block([r.value() for r in records], collected_status=route.kind == "status")
        if fast is not None:
            counts.consumed += len(records)
            done = buffer.add_many(records[0].offset(), records[-1].offset(), len(records), fast[0], fast[1],
                                   now)
            if done is not None:
                ready.append(done)
            return
        parse, date_at = route.parse, route.date_field
        for record in records:
            counts.consumed += 1
            offset = record.offset()
            try:
                fields = parse(record.value())
            except Rejected as exc:
                counts.rejected += 1
                counts.reasons[exc.reason] += 1
                self.dlq.send(record, exc)
                done = buffer.add(offset, None, None, now)
            else:
                done = buffer.add(offset, fields[date_at][:8], ",".join(fields), now)
            if done is not None:
                ready.append(done)

    # ---- writing (a writer thread) and committing (the main thread) ---------------------------
    def _write(self, block: Block) -> dict[TopicPartition, int]:
        """Writer thread: write and rename ``block``; the offset to commit once that is done."""
        topic = self._topic_of(block)
        files, nbytes = self.store.write_block(self.routes[topic].base, block)
        with self.report_lock:
            self.report.files += files
            self.report.bytes += nbytes
            self.report.topics[topic].written += block.written
        log.debug("wrote %s (%d lines, %d bytes)", block.name.final, block.written, nbytes)
        return {TopicPartition(topic, block.partition): block.last + 1}

    def _flush(self, blocks: list[Block]) -> None:
        """Hand finished blocks to the writers; HDFS writes overlap with consuming the next polls.

        A partition's blocks always go to the same single-threaded lane, so they reach HDFS in
        offset order (recovery resumes after the highest offset found there); different
        partitions are written in parallel. The dead letters of a block's offsets are acknowledged
        before the block is handed over: recovery resumes after the offsets found in HDFS, so a
        block in place covers its rejected records as a commit would.
        """
        if blocks:
            self.dlq.flush()
        for block in blocks:
            if len(self.in_flight) >= MAX_WRITES_IN_FLIGHT:
                self._commit_written(wait_oldest=True)
            lane = self.writers[hash((block.kind, block.partition)) % WRITER_LANES]
            self.in_flight.append(lane.submit(self._write, block))
        self._commit_written()

    def _commit_written(self, wait_oldest: bool = False, wait_all: bool = False) -> None:
        """Commit, in order, the offsets after every block whose write and rename are done.

        Write, rename, then commit: the order that makes a crash at any point harmless. The
        flags wait for the oldest write, or for every write, instead of taking only finished ones.
        """
        offsets: dict[TopicPartition, int] = {}
        while self.in_flight and (wait_all or wait_oldest or self.in_flight[0].done()):
            offsets.update(self.in_flight.popleft().result())
            wait_oldest = False
        if not offsets:
            return
        self.dlq.flush()  # dead letters of the covered offsets are in Kafka before the commit
        if self.consumer is not None:
            mine = {tp: o for tp, o in offsets.items() if tp in self.buffers}
            try:
                self.consumer.commit(mine)
            except CommitRejected as exc:
                log.warning("commit skipped after a rebalance (%s); the files are in HDFS, the new "
                            "owner resumes after them", exc)

    def _topic_of(self, block: Block) -> str:
        return next(t for t, r in self.routes.items() if r.kind == block.kind)

    def _progress(self, tick: Tick) -> str:
        pending = sum(b.block.records for b in self.buffers.values() if b.block)
        return progress_line("batch loader", tick, self.consumer.lag(),
                             f"{pending:,} buffered, {self.report.files} files, "
                             f"{self.store.bytes_written / 1e6:.1f} MB written")

    # ---- main loop ----------------------------------------------------------------------------
    def run(self) -> BatchReport:
        with fewer_collections():  # one Python object per record: see gc_tuning
            return self._run()

    def _run(self) -> BatchReport:
        started = time.monotonic()
        factory = self._consumer_factory or partial(GroupConsumer, self.s)
        self.consumer = factory(self.options.group, list(self.routes), self._on_assigned, self._on_revoked)
        ends = self.consumer.end_offsets() if self.options.bounded else {}
        if ends:
            log.info("bounded run: reading up to end offsets %s",
                     {f"{tp.topic}/{tp.partition}": o for tp, o in sorted(ends.items())})
        ticker = Ticker(self.options.progress_seconds)
        try:
            while not self.stop.is_set():
                want = poll_size(self.consumer.positions, ends, self.options.poll_records)
                polled = self.consumer.poll(want, 0.5)
                now = time.monotonic()
                ready: list[Block] = []
                for tp, records in polled.items():
                    if ends and tp in ends:
                        records = records[:bisect.bisect_left(records, ends[tp], key=_offset)]
                    self._consume(tp, records, now, ready)
                for buffer in self.buffers.values():
                    if buffer.due(now, self.options.roll_seconds):
                        ready.append(buffer.take())  # type: ignore[arg-type]
                self._flush(ready)
                consumed = sum(c.consumed for c in self.report.topics.values())
                if (tick := ticker.due(consumed)) is not None:
                    log.info(self._progress(tick))
                if self.options.bounded and reached_ends(self.consumer.positions, ends):
                    break
            self._flush([b for buf in self.buffers.values() if (b := buf.take())])
            self._commit_written(wait_all=True)
        finally:
            for lane in self.writers:
                lane.shutdown(wait=True)
            self.consumer.close()
            self.dlq.close()
        self.report.seconds = time.monotonic() - started
        return self.report
