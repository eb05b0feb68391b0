"""The loaders' Kafka side: a group consumer on librdkafka (``confluent-kafka``).

Why not kafka-python here (it stays the project's client for producers, admin and checks): the
loaders read every record, and kafka-python decodes record batches in pure Python, about 5 µs per
record on this machine, more than all the loaders' own work on a record. librdkafka decodes in C
and prefetches in the background; ``consume()`` hands over thousands of messages per call.
See BENCHMARKS.md (Loaders) for the figures.

:class:`GroupConsumer` is the small surface the loaders use:

* ``poll`` -> messages grouped by partition, in offset order (``confluent_kafka.Message``:
  ``offset()``, ``value()``, ``key()``, ``timestamp()``, ``topic()``, ``partition()``);
* rebalances reach the loader inside ``poll``, on its own thread: ``on_assigned`` receives the
  group's committed offset and commit metadata per partition and may return where to start
  (the batch loader resumes after what HDFS already holds); ``on_revoked`` lets it drop state;
* ``commit`` (synchronous, with metadata), ``end_offsets`` (bounded runs), ``lag``, ``positions``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from ingest.closing import Closing
from ingest.kafka_io import wait_for_kafka
from ingest.loaders.retry import with_retry
from pilot.errors import ServiceUnavailable
from pilot.settings import Settings

log = logging.getLogger(__name__)


class TopicPartition(NamedTuple):
    topic: str
    partition: int


class Committed(NamedTuple):
    offset: int | None  # None: the group has no commit for the partition
    metadata: str


AssignedCallback = Callable[[dict[TopicPartition, Committed]], dict[TopicPartition, int] | None]
RevokedCallback = Callable[[set[TopicPartition]], None]


class CommitRejected(Exception):
    """The group moved the partition on (rebalance): the commit did not happen."""


class _KafkaAway(Exception):
    """A retriable Kafka error (broker away, timeout): :func:`with_retry` waits and tries again."""


def consumer_config(s: Settings, group: str, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "bootstrap.servers": s.kafka_bootstrap,
        "group.id": group,
        "client.id": f"pilot-{group}",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        # collectors write in transactions: never read records of one that did not commit
        "isolation.level": "read_committed",
        # A sink outage is ridden out inside the loop (retry with backoff): give it time before
        # the group coordinator decides this member is dead and moves its partitions.
        "max.poll.interval.ms": 30 * 60 * 1000,
        "fetch.wait.max.ms": 100,
        "fetch.max.bytes": 64 * 1024 * 1024,
        "max.partition.fetch.bytes": 8 * 1024 * 1024,
        "queued.max.messages.kbytes": 128 * 1024,
        "reconnect.backoff.max.ms": 5000,
        "logger": logging.getLogger("librdkafka"),
        "log_level": 2,  # connection errors reach error_cb (throttled) instead of one line per retry
    }
    config.update(overrides)
    return config


def poll_size(positions: dict[TopicPartition, int], ends: dict[TopicPartition, int], most: int) -> int:
    """How many messages a bounded run asks ``poll`` for: ``consume`` returns as soon as it has
    that many, so the last poll does not sit out its timeout waiting for a full batch."""
    if not ends or not positions:
        return most
    left = sum(max(0, ends.get(tp, 0) - position) for tp, position in positions.items())
    return max(1, min(most, left))


def reached_ends(positions: dict[TopicPartition, int], ends: dict[TopicPartition, int]) -> bool:
    """A bounded run is done: partitions are assigned and each is read up to its end offset."""
    return bool(positions) and all(positions[tp] >= ends.get(tp, 0) for tp in list(positions))


class GroupConsumer(Closing):
    """A member of consumer group ``group`` reading ``topics`` (see the module docstring);
    ``with GroupConsumer(...) as consumer:`` leaves the group at the end of the block."""

    def __init__(self, s: Settings, group: str, topics: Iterable[str], on_assigned: AssignedCallback,
                 on_revoked: RevokedCallback, **overrides: Any) -> None:
        from confluent_kafka import Consumer

        self.address = s.kafka_bootstrap
        self.topics = list(topics)
        self._on_assigned = on_assigned
        self._on_revoked = on_revoked
        self.positions: dict[TopicPartition, int] = {}  # next offset to hand out, per assigned partition
        self._last_error = 0.0
        wait_for_kafka(s, f"consumer group {group}")
        self._consumer = Consumer(consumer_config(s, group, error_cb=self._error, **overrides))
        self._consumer.subscribe(self.topics, on_assign=self._assign, on_revoke=self._revoke,
                                 on_lost=self._revoke)

    # ---- rebalance (served inside consume(), on the loader's thread) ---------------------------
    def _assign(self, consumer: Any, partitions: list[Any]) -> None:
        from confluent_kafka import TopicPartition as KafkaTopicPartition

        committed: dict[TopicPartition, Committed] = {}
        if partitions:
            for p in self._committed(partitions):
                tp = TopicPartition(p.topic, p.partition)
                committed[tp] = Committed(p.offset if p.offset >= 0 else None, p.metadata or "")
        starts = self._on_assigned(committed) or {}
        assignment = []
        for tp, c in committed.items():
            start = starts.get(tp, c.offset)
            if start is None:  # no commit: the beginning (auto.offset.reset=earliest)
                low, _high = consumer.get_watermark_offsets(KafkaTopicPartition(*tp), timeout=30)
                start = max(low, 0)
            self.positions[tp] = start
            assignment.append(KafkaTopicPartition(tp.topic, tp.partition, start))
        consumer.assign(assignment)

    def _committed(self, partitions: list[Any]) -> list[Any]:
        from confluent_kafka import KafkaException

        return with_retry(lambda: self._consumer.committed(partitions, timeout=30), "Kafka", self.address,
                          (KafkaException,))

    def _revoke(self, consumer: Any, partitions: list[Any]) -> None:
        tps = {TopicPartition(p.topic, p.partition) for p in partitions}
        for tp in tps:
            self.positions.pop(tp, None)
        if tps:
            self._on_revoked(tps)

    def _error(self, error: Any) -> None:
        now = time.monotonic()
        if now - self._last_error >= 10.0:  # librdkafka retries by itself; say so now and then
            self._last_error = now
            log.warning("Kafka at %s: %s (retrying)", self.address, error.str())

    # ---- reading ------------------------------------------------------------------------------
    def poll(self, max_records: int, timeout: float) -> dict[TopicPartition, list[Any]]:
        """Up to ``max_records`` messages, grouped by partition, each group in offset order."""
        messages = self._consumer.consume(num_messages=max_records, timeout=timeout)
        grouped: dict[TopicPartition, list[Any]] = {}
        current: list[Any] | None = None
        current_key: tuple[str, int] | None = None
        for message in messages:
            if message.error() is not None:
                self._error(message.error())
                continue
            key = (message.topic(), message.partition())
            if key != current_key:
                tp = TopicPartition(*key)
                current_key = key
                current = grouped.setdefault(tp, [])
            current.append(message)  # type: ignore[union-attr]
        for tp, batch in grouped.items():
            if tp in self.positions:
                self.positions[tp] = batch[-1].offset() + 1
        self._skip_control_records()
        return grouped

    def _skip_control_records(self) -> None:
        """Move positions past transaction markers and aborted records, which are never handed
        out: a partition whose last records are those is still read to its end."""
        from confluent_kafka import TopicPartition as KafkaTopicPartition

        if not self.positions:
            return
        for p in self._consumer.position([KafkaTopicPartition(*tp) for tp in self.positions]):
            tp = TopicPartition(p.topic, p.partition)
            if tp in self.positions and p.offset > self.positions[tp]:
                self.positions[tp] = p.offset

    def assignment(self) -> set[TopicPartition]:
        return set(self.positions)

    def end_offsets(self) -> dict[TopicPartition, int]:
        """The end (high watermark) of every partition of the topics now."""
        from confluent_kafka import KafkaException
        from confluent_kafka import TopicPartition as KafkaTopicPartition

        ends: dict[TopicPartition, int] = {}
        try:
            for topic in self.topics:
                meta = self._consumer.list_topics(topic, timeout=30).topics[topic]
                for partition in sorted(meta.partitions):
                    _low, high = self._consumer.get_watermark_offsets(
                        KafkaTopicPartition(topic, partition), timeout=30)
                    ends[TopicPartition(topic, partition)] = high
        except KafkaException as exc:
            raise ServiceUnavailable("Kafka", self.address, str(exc)) from exc
        return ends

    def lag(self) -> int | None:
        """Messages behind the high watermark over the assigned partitions (None: not known yet)."""
        from confluent_kafka import TopicPartition as KafkaTopicPartition

        total = 0
        for tp, position in list(self.positions.items()):
            _low, high = self._consumer.get_watermark_offsets(KafkaTopicPartition(*tp), cached=True)
            if high < 0:
                return None
            total += max(0, high - position)
        return total

    # ---- committing ---------------------------------------------------------------------------
    def commit(self, offsets: dict[TopicPartition, int],
               metadata: dict[TopicPartition, str] | None = None) -> None:
        """Commit synchronously; retried while Kafka is away, :class:`CommitRejected` after a rebalance."""
        from confluent_kafka import KafkaError, KafkaException
        from confluent_kafka import TopicPartition as KafkaTopicPartition

        if not offsets:
            return
        meta = metadata or {}
        request = [KafkaTopicPartition(tp.topic, tp.partition, offset, metadata=meta.get(tp, ""))
                   for tp, offset in offsets.items()]

        def attempt() -> list[Any]:
            try:
                return self._consumer.commit(offsets=request, asynchronous=False) or []
            except KafkaException as exc:
                error = exc.args[0]
                if error.code() in (KafkaError.REBALANCE_IN_PROGRESS, KafkaError.ILLEGAL_GENERATION,
                                    KafkaError.UNKNOWN_MEMBER_ID, KafkaError._ASSIGNMENT_LOST):
                    raise CommitRejected(error.str()) from exc
                if error.retriable() or error.code() == KafkaError._TRANSPORT:
                    raise _KafkaAway(error.str()) from exc
                raise

        result = with_retry(attempt, "Kafka", self.address, (_KafkaAway,))
        failed = [p for p in result if p.error is not None]
        if failed:
            raise CommitRejected("; ".join(f"{p.topic}/{p.partition}: {p.error.str()}" for p in failed))

    def close(self) -> None:
        self._consumer.close()


def group_members(s: Settings, group: str, topic: str, timeout: float = 15.0) -> list[str]:
    """The members of consumer group ``group`` that hold partitions of ``topic`` now (static members
    by their instance id)."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": s.kafka_bootstrap, "logger": logging.getLogger("librdkafka"),
                         "log_level": 2})
    try:
        future = admin.describe_consumer_groups([group], request_timeout=timeout)[group]
        found = future.result(timeout=timeout)
    except KafkaException as exc:
        raise ServiceUnavailable("Kafka", s.kafka_bootstrap, str(exc)) from exc
    return [m.group_instance_id or m.member_id for m in found.members
            if m.assignment and any(tp.topic == topic for tp in m.assignment.topic_partitions)]
