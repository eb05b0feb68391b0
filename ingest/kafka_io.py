"""Kafka clients configured the project's way, and waiting for Kafka with a readable message."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import closing
from typing import Any

from pilot.errors import ServiceUnavailable
from pilot.settings import Settings

log = logging.getLogger(__name__)


def compression() -> str:
    """lz4 when its codec is installed (fast, good ratio), gzip otherwise."""
    try:
        import lz4.frame  # noqa: F401
    except ImportError:
        return "gzip"
    return "lz4"


def producer_config(s: Settings, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "bootstrap_servers": s.kafka_bootstrap,
        "acks": "all",
        "linger_ms": 20,
        "batch_size": 256 * 1024,
        "compression_type": compression(),
        # Keep retrying a broker that is away for a while instead of dropping records.
        "retries": float("inf"),
        "delivery_timeout_ms": 600_000,
        "request_timeout_ms": 30_000,
        "max_block_ms": 60_000,
        "retry_backoff_ms": 500,
        "reconnect_backoff_max_ms": 5_000,
        "max_in_flight_requests_per_connection": 5,
        "enable_idempotence": True,
        "client_id": "pilot-producer",
    }
    config.update(overrides)
    return config


def make_producer(s: Settings, **overrides: Any):
    from kafka import KafkaProducer

    return KafkaProducer(**producer_config(s, **overrides))


def consumer_config(s: Settings, group_id: str, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "bootstrap_servers": s.kafka_bootstrap,
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "isolation_level": "read_committed",  # collectors write in transactions
        "max_poll_records": 5000,
        "fetch_max_bytes": 64 * 1024 * 1024,
        "max_partition_fetch_bytes": 8 * 1024 * 1024,
        "reconnect_backoff_max_ms": 5_000,
        "client_id": f"pilot-{group_id}",
    }
    config.update(overrides)
    return config


def wait_for_kafka(s: Settings, purpose: str, timeout: float = 300.0,
                   say: Callable[[str], None] = log.warning) -> None:
    """Block until the broker answers metadata requests, backing off between attempts.

    Raises ServiceUnavailable (one readable message) if it stays away longer than `timeout`.
    """
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    deadline = time.monotonic() + timeout
    delay = 1.0
    attempt = 0
    while True:
        attempt += 1
        try:
            with closing(KafkaAdminClient(bootstrap_servers=s.kafka_bootstrap, request_timeout_ms=5000,
                                          client_id="pilot-wait")) as admin:
                admin.list_topics()
            if attempt > 1:
                say(f"Kafka at {s.kafka_bootstrap} is back; resuming {purpose}")
            return
        except (KafkaError, OSError, ValueError) as exc:
            if time.monotonic() + delay > deadline:
                raise ServiceUnavailable("Kafka", s.kafka_bootstrap, str(exc)) from exc
            say(f"waiting for Kafka at {s.kafka_bootstrap} for {purpose} "
                f"(attempt {attempt}, next try in {delay:.0f} s): {exc}")
            time.sleep(delay)
            delay = min(delay * 2, 15.0)


def partition_for(key: bytes, partitions: int) -> int:
    """The partition of a keyed record, as the default partitioner of kafka-python and of the Java
    client choose it (murmur2 of the key), so every client puts a car on the same partition."""
    from kafka.partitioner.default import murmur2

    return (murmur2(key) & 0x7FFFFFFF) % partitions


def abandon_producer(producer: Any, join_timeout: float = 5.0) -> None:
    """Close a producer without waiting for undelivered records: their futures fail (so the
    caller can send them again with a new producer). ``close(timeout=0)`` alone would raise while
    records are pending, because it flushes first."""
    sender = getattr(producer, "_sender", None)
    try:
        if sender is not None and hasattr(sender, "force_close"):
            sender.force_close()
            sender.join(join_timeout)
        producer.close(timeout=0)
    except Exception as exc:  # a broken producer must not stop the caller from replacing it
        log.debug("abandoning producer: %s", exc)
