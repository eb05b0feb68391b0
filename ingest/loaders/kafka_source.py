"""The loaders' Kafka side: a group consumer tuned for throughput, bounded end offsets, lag, commits."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from ingest.kafka_io import consumer_config, wait_for_kafka
from pilot.settings import Settings

log = logging.getLogger(__name__)

PartitionsCallback = Callable[[set[TopicPartition]], None]


class Listener(ConsumerRebalanceListener):
    """Forward rebalance events to the loader.

    kafka-python 3 runs these callbacks on its network thread, where blocking consumer calls
    (``committed``, ``commit``, ``seek``) are not allowed: the loaders only note the change
    here and act on it in their main loop, right after ``poll`` returns and before they look at
    the records it returned.
    """

    def __init__(self, on_assigned: PartitionsCallback, on_revoked: PartitionsCallback) -> None:
        self._assigned = on_assigned
        self._revoked = on_revoked

    def on_partitions_revoked(self, revoked: Any) -> None:
        if revoked:
            self._revoked(set(revoked))

    def on_partitions_assigned(self, assigned: Any) -> None:
        if assigned:
            self._assigned(set(assigned))


def make_consumer(s: Settings, group: str, topics: Iterable[str], listener: Listener,
                  **overrides: Any) -> KafkaConsumer:
    wait_for_kafka(s, f"consumer group {group}")
    config = consumer_config(
        s, group,
        # A sink outage is ridden out inside the loop (retry with backoff): give it time before
        # the group coordinator decides this member is dead and moves its partitions.
        max_poll_interval_ms=30 * 60 * 1000,
        fetch_min_bytes=64 * 1024,
        fetch_max_wait_ms=100,
        # kafka-python checks CRCs in pure Python (about 5 % of a loader's CPU); TCP and the
        # broker's own checks already guard the bytes on this path.
        check_crcs=False,
        **overrides,
    )
    consumer = KafkaConsumer(**config)
    consumer.subscribe(topics=list(topics), listener=listener)
    return consumer


def all_partitions(consumer: KafkaConsumer, topics: Iterable[str]) -> list[TopicPartition]:
    found: list[TopicPartition] = []
    for topic in topics:
        parts = consumer.partitions_for_topic(topic) or set()
        found.extend(TopicPartition(topic, p) for p in sorted(parts))
    return found


def end_offsets(consumer: KafkaConsumer, topics: Iterable[str]) -> dict[TopicPartition, int]:
    """The end offsets now: a bounded run reads up to (not including) these."""
    parts = all_partitions(consumer, topics)
    return dict(consumer.end_offsets(parts)) if parts else {}


def lag(consumer: KafkaConsumer) -> int | None:
    """Records behind the high watermark over the assigned partitions (None before the first fetch)."""
    total = 0
    for tp in consumer.assignment():
        high = consumer.highwater(tp)
        if high is None:
            return None
        total += max(0, high - consumer.position(tp))
    return total


def commit(consumer: KafkaConsumer, offsets: dict[TopicPartition, int],
           metadata: dict[TopicPartition, str] | None = None) -> None:
    if not offsets:
        return
    meta = metadata or {}
    consumer.commit({tp: OffsetAndMetadata(offset, meta.get(tp, ""), -1) for tp, offset in offsets.items()})


def committed_metadata(consumer: KafkaConsumer, tp: TopicPartition) -> tuple[int | None, str]:
    """The group's committed offset of ``tp`` and the metadata string stored with it."""
    result = consumer.committed(tp, metadata=True)
    if result is None:
        return None, ""
    return result.offset, result.metadata or ""
