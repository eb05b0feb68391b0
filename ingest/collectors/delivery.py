"""Handing records to kafka-python and finding out which ones the broker confirmed.

Two ways to hand records over, same records on the wire (every record its own keyed message,
partitioned like the Java client, ``acks=all``, idempotent, lz4 batches):

``send``  the public ``KafkaProducer.send()`` per record, keeping each record's future. Works
          with any producer-like object (tests use a fake one).
``bulk``  appends records straight into kafka-python's open record batches, a partition at a
          time, and tracks one future per *batch* instead of one per record. kafka-python's
          ``send()`` spends most of its time on per-record bookkeeping (argument checks, a
          future, callbacks, a lock, logging); this path skips that and is several times faster
          (see BENCHMARKS.md). It uses kafka-python internals (the record accumulator), so it is
          only chosen when those are present (:func:`bulk_supported`), else ``send`` is used.

A :class:`Delivery` tells, once every record has an outcome, which records were *not*
confirmed, so the caller can send exactly those again.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any, Protocol

from ingest.collectors.encoding import append_many, fast_encoding_ok
from ingest.collectors.validate import Record
from ingest.kafka_io import partition_for

log = logging.getLogger(__name__)

Records = dict[str, list[Record]]  # topic -> (key, value) records in order

MODES = ("auto", "bulk", "send")


def count(records: Records) -> int:
    return sum(len(items) for items in records.values())


class Delivery(Protocol):
    size: int

    def wait(self, timeout: float) -> bool:
        """Block until every record has an outcome (or ``timeout`` s); True if all have one."""
        ...

    def unconfirmed(self) -> int:
        """Records without an outcome yet."""
        ...

    def failed(self) -> tuple[Records, BaseException | None]:
        """Records that were not confirmed (failed, never sent, or still without outcome)."""
        ...


class Appender(Protocol):
    name: str

    def append(self, records: Records) -> Delivery: ...


def _is_done(future: Any) -> bool:
    return bool(future.is_done)


def _wait_record_future(future: Any, timeout: float) -> None:
    from kafka.errors import KafkaError

    with contextlib.suppress(KafkaError):  # failed (inspected later) or not done in time
        future.get(timeout=timeout)


class _Partitions:
    """Partition of each key, as kafka-python's (and Java's) default partitioner picks it."""

    def __init__(self, producer: Any) -> None:
        self.producer = producer
        self._counts: dict[str, int] = {}
        self._cache: dict[tuple[str, bytes], int] = {}

    def count(self, topic: str) -> int:
        n = self._counts.get(topic)
        if n is None:
            n = len(self.producer.partitions_for(topic))  # may wait for metadata (max_block_ms)
            self._counts[topic] = n
        return n

    def of(self, topic: str, key: bytes) -> int:
        p = self._cache.get((topic, key))
        if p is None:
            p = self._cache[(topic, key)] = partition_for(key, self.count(topic))
        return p


class SendDelivery:
    def __init__(self) -> None:
        self.parts: list[tuple[str, list[Record], list[Any], BaseException | None]] = []
        self.size = 0

    def add(self, topic: str, records: list[Record], futures: list[Any], error: BaseException | None) -> None:
        self.parts.append((topic, records, futures, error))
        self.size += len(records)

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        for _, _, futures, _ in self.parts:
            for future in reversed(futures):  # the last ones finish last
                if not future.is_done:
                    _wait_record_future(future, max(0.0, deadline - time.monotonic()))
                    if not future.is_done:
                        return False
        return True

    def unconfirmed(self) -> int:
        return sum(len(records) - sum(1 for f in futures if f.is_done and f.exception is None)
                   for _, records, futures, _ in self.parts)

    def failed(self) -> tuple[Records, BaseException | None]:
        out: Records = {}
        first: BaseException | None = None
        for topic, records, futures, error in self.parts:
            bad: list[Record] = []
            for record, future in zip(records, futures, strict=False):
                if not future.is_done or future.exception is not None:
                    bad.append(record)
                    if first is None and future.is_done:
                        first = future.exception
            if len(futures) < len(records):  # never handed over: send() raised
                bad.extend(records[len(futures):])
                first = first or error
            if bad:
                out.setdefault(topic, []).extend(bad)
        return out, first


class SendAppender:
    """Public API: one ``producer.send()`` per record (partition computed once per key)."""

    name = "send"

    def __init__(self, producer: Any) -> None:
        self.producer = producer
        self.partitions = _Partitions(producer)

    def append(self, records: Records) -> Delivery:
        from kafka.errors import KafkaError

        delivery = SendDelivery()
        send = self.producer.send
        of = self.partitions.of
        for topic, items in records.items():
            futures: list[Any] = []
            error: BaseException | None = None
            try:
                for key, value in items:
                    futures.append(send(topic, value, key, None, of(topic, key)))
            except KafkaError as exc:  # metadata not available within max_block_ms, closed producer
                error = exc
                log.debug("send() failed after %d of %d records: %s", len(futures), len(items), exc)
            delivery.add(topic, items, futures, error)
        return delivery


class BulkDelivery:
    """Batch-level futures, each with the slice of records appended to that batch."""

    def __init__(self) -> None:
        self.segments: list[tuple[str, list[Record], int, int, Any]] = []
        self.unsent: list[tuple[str, list[Record]]] = []
        self.error: BaseException | None = None
        self.size = 0

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        seen: set[int] = set()
        for *_, future in reversed(self.segments):
            if id(future) in seen or future.is_done:
                continue
            seen.add(id(future))
            future.wait(max(0.0, deadline - time.monotonic()))
            if not future.is_done:
                return False
        return True

    def unconfirmed(self) -> int:
        return sum(end - start for _, _, start, end, f in self.segments if not _succeeded(f)) + sum(
            len(items) for _, items in self.unsent)

    def failed(self) -> tuple[Records, BaseException | None]:
        out: Records = {}
        first = None
        for topic, items, start, end, future in self.segments:
            if not _succeeded(future):
                out.setdefault(topic, []).extend(items[start:end])
                if future.is_done and first is None:
                    first = _batch_error(future)
        for topic, items in self.unsent:
            out.setdefault(topic, []).extend(items)
            first = first or self.error
        return out, first


def _succeeded(future: Any) -> bool:
    """A batch future that completed without error.

    kafka-python completes a failed or aborted batch's future *successfully* with the value
    ``(base_offset, timestamp, record_exceptions_fn)``; only ``record_exceptions_fn is None``
    means every record was written.
    """
    if not future.is_done or future.exception is not None:
        return False
    value = future.value
    return not (isinstance(value, tuple) and len(value) == 3 and value[2] is not None)


def _batch_error(future: Any) -> BaseException:
    if future.exception is not None:
        return future.exception
    try:
        error = future.value[2](0)
    except Exception as exc:
        return exc
    return error if isinstance(error, BaseException) else RuntimeError(str(error))


def bulk_supported(producer: Any) -> bool:
    """True if ``producer`` is a kafka-python producer whose internals the bulk path relies on."""
    acc = getattr(producer, "_accumulator", None)
    return (
        acc is not None and hasattr(acc, "_batches") and hasattr(acc, "_tp_lock")
        and hasattr(acc, "append") and hasattr(getattr(producer, "_sender", None), "wakeup")
    )


class BulkAppender:
    """Appends each partition's records straight into kafka-python's open batch.

    Per partition: take the accumulator's lock for that partition, append records to the open
    batch until it is full — with :func:`ingest.collectors.encoding.append_many`, which writes the
    bytes the batch builder's own ``append`` would write (checked at start-up, else that
    ``append`` is used) — then let the accumulator start a new batch (``append`` of one record, as
    ``send()`` does) and continue. Sequence numbers (idempotence), compression, CRC, retries
    and acknowledgements stay kafka-python's.
    """

    name = "bulk"

    def __init__(self, producer: Any) -> None:
        from kafka.structs import TopicPartition

        self.producer = producer
        self.partitions = _Partitions(producer)
        self._tps: dict[tuple[str, int], Any] = {}
        self._tp_type = TopicPartition
        self.fast = fast_encoding_ok()  # encode runs of records at once (byte-identical, self-checked)

    def _tp(self, topic: str, partition: int) -> Any:
        tp = self._tps.get((topic, partition))
        if tp is None:
            tp = self._tps[(topic, partition)] = self._tp_type(topic, partition)
        return tp

    def append(self, records: Records) -> Delivery:
        from kafka.errors import KafkaError

        delivery = BulkDelivery()
        for topic, items in records.items():
            delivery.size += len(items)
            try:
                n = self.partitions.count(topic)
            except KafkaError as exc:
                delivery.unsent.append((topic, items))
                delivery.error = exc
                continue
            groups: dict[int, list[Record]] = {}
            if n == 1:
                groups[0] = items
            else:
                of = self.partitions.of
                for record in items:
                    p = of(topic, record[0])
                    group = groups.get(p)
                    if group is None:
                        groups[p] = [record]
                    else:
                        group.append(record)
            for partition, group in groups.items():
                try:
                    self._append_group(delivery, topic, self._tp(topic, partition), group)
                except KafkaError as exc:
                    delivery.error = exc
        return delivery

    def _append_group(self, delivery: BulkDelivery, topic: str, tp: Any, group: list[Record]) -> None:
        producer = self.producer
        acc = producer._accumulator
        manager = getattr(producer, "_transaction_manager", None)
        if manager is not None and manager.is_transactional():
            manager.maybe_add_partition_to_transaction(tp)  # as send() does inside a transaction
        lock = acc._tp_lock(tp)
        batches = acc._batches
        timestamp = int(time.time() * 1000)
        headers: list[Any] = []
        i, n = 0, len(group)
        try:
            while i < n:
                start = i
                with lock:
                    dq = batches[tp]
                    if dq:
                        batch = dq[-1]
                        if self.fast:
                            i = append_many(batch.records, group, i, timestamp)
                        else:
                            append = batch.records.append
                            while i < n:
                                key, value = group[i]
                                if append(timestamp, key, value, headers) is None:
                                    break
                                i += 1
                        if i > start:
                            batch.last_append = time.monotonic()
                            delivery.segments.append((topic, group, start, i, batch.produce_future))
                if i < n:  # no open batch or it is full: the accumulator starts a new one
                    key, value = group[i]
                    future, _, _, _ = acc.append(tp, timestamp, key, value, headers)
                    delivery.segments.append((topic, group, i, i + 1, future._produce_future))
                    i += 1
                    producer._sender.wakeup()
        except BaseException:
            delivery.unsent.append((topic, group[i:]))
            raise


def make_appender(producer: Any, mode: str = "auto") -> Appender:
    if mode not in MODES:
        raise ValueError(f"send mode must be one of {', '.join(MODES)}, got {mode!r}")
    if mode in ("auto", "bulk") and bulk_supported(producer):
        return BulkAppender(producer)
    if mode == "bulk":
        log.warning("this kafka-python has no record accumulator the bulk path can use; "
                    "falling back to send() per record")
    return SendAppender(producer)

