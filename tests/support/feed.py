"""Feed a simulated day straight into the topics (tests and benchmarks of the loaders).

The collectors are the real producers; this is the shortest path from a simulator folder to the
loaders' input contracts: ``smartcar-status`` values are the 13 status fields plus the collection
date, ``SmartCar-Topic`` values are the 8-field driving lines, keys are car numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from kafka import TopicPartition

from ingest.kafka_io import make_producer
from pilot.settings import Settings


def read_lines(path: str | Path) -> list[str]:
    return [line for line in Path(path).read_text(encoding="utf-8").splitlines() if line]


def collected_status(lines: Iterable[str], wrk_date: str) -> Iterator[str]:
    for line in lines:
        yield f"{line},{wrk_date}"


def produce(s: Settings, topic: str, lines: Iterable[str], producer: Any = None,
            key_field: int = 1) -> int:
    """Send each line with its car number as the key; returns the number sent (all acknowledged).

    Records go through the live collector's bulk path (straight into kafka-python's record
    batches) when the producer allows it, else through ``send()`` one by one.
    """
    from ingest.collectors.delivery import BulkAppender, bulk_supported

    own = producer is None
    producer = producer or make_producer(s, linger_ms=50)
    records = []
    for line in lines:
        parts = line.split(",", key_field + 1)
        key = parts[key_field].encode() if len(parts) > key_field else b""
        records.append((key, line.encode()))
    try:
        if bulk_supported(producer):
            delivery = BulkAppender(producer).append({topic: records})
            producer.flush()
            unsent, error = delivery.failed() if delivery.wait(60.0) else ({topic: records}, None)
            if unsent:
                raise RuntimeError(f"{sum(map(len, unsent.values()))} records to {topic} not acknowledged: "
                                   f"{error}")
        else:
            for key, value in records:
                producer.send(topic, key=key or None, value=value)
            producer.flush()
    finally:
        if own:
            producer.close()
    return len(records)


def end_offsets(s: Settings, topic: str) -> dict[TopicPartition, int]:
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(bootstrap_servers=s.kafka_bootstrap)
    try:
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        return dict(consumer.end_offsets(parts))
    finally:
        consumer.close()


def start_group_at(s: Settings, group: str, offsets: dict[TopicPartition, int]) -> None:
    """Commit ``offsets`` for a new consumer group, so that it starts there (not at the beginning)."""
    from kafka import KafkaConsumer
    from kafka.structs import OffsetAndMetadata

    consumer = KafkaConsumer(bootstrap_servers=s.kafka_bootstrap, group_id=group,
                             enable_auto_commit=False)
    try:
        consumer.commit({tp: OffsetAndMetadata(o, "", -1) for tp, o in offsets.items()})
    finally:
        consumer.close(autocommit=False)
