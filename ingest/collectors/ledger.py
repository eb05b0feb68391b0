"""The collectors' ledger: how far each source has been collected, committed with its records.

A collector writes its records in Kafka transactions, and the last record of every transaction
is the source's ledger entry (a compacted topic, ``settings.topic_collect_ledger``): the position
reached in the source, the counts so far and ``done`` once the source is finished. Records and
entry become visible together or not at all (consumers read ``read_committed``), the way Kafka
Connect's exactly-once source connectors keep their offsets (KIP-618). A collector that starts
again from its source's entry, after a kill, an Airflow retry or a rerun of the same day,
neither loses nor repeats a record, and a finished source is not collected twice.

A source is named by *what* it is, not where it lies: a status file by the SHA-256 of its
content (a copy dropped into the spool again is the same source), the live producer's day by
date, fleet size, seed and the producer's share of the fleet.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any

from ingest.collectors.delivery import Records
from pilot.errors import ServiceUnavailable
from pilot.settings import Settings

log = logging.getLogger(__name__)


def file_source(path: Path) -> str:
    """The ledger key of a status file: its content's SHA-256."""
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    return f"file/sha256={digest}"


def live_source(date: str, cars: int, seed: int, worker: int = 0, workers: int = 1) -> str:
    """The ledger key of one live producer's share of a simulated day."""
    return f"live/date={date}/cars={cars}/seed={seed}/share={worker + 1}of{workers}"


def transactional_id(source: str) -> str:
    """One transactional id per source: a new producer of it fences (and aborts) an older one."""
    return f"pilot-collect-{source}"


def entry_record(s: Settings, source: str, state: dict[str, Any]) -> Records:
    value = json.dumps(state, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return {s.topic_collect_ledger: [(source.encode("utf-8"), value)]}


def read_entry(s: Settings, source: str, timeout: float = 60.0) -> dict[str, Any] | None:
    """The latest committed entry of ``source``, or None if it was never collected."""
    from kafka import KafkaConsumer, TopicPartition
    from kafka.errors import KafkaError

    key = source.encode("utf-8")
    latest: dict[str, Any] | None = None
    try:
        consumer = KafkaConsumer(bootstrap_servers=s.kafka_bootstrap, group_id=None,
                                 enable_auto_commit=False, isolation_level="read_committed",
                                 client_id="pilot-collect-ledger")
    except KafkaError as exc:
        raise ServiceUnavailable("Kafka", s.kafka_bootstrap, str(exc)) from exc
    with contextlib.closing(consumer):
        partitions = consumer.partitions_for_topic(s.topic_collect_ledger) or set()
        tps = [TopicPartition(s.topic_collect_ledger, p) for p in sorted(partitions)]
        if not tps:
            return None
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)  # the last stable offsets (read_committed)
        deadline = time.monotonic() + timeout
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            if time.monotonic() > deadline:
                raise ServiceUnavailable("Kafka", s.kafka_bootstrap,
                                         f"could not read the collect ledger within {timeout:.0f} s")
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    if record.key == key:
                        latest = json.loads(record.value) if record.value else None
    return latest
