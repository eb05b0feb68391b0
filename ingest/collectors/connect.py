"""Before producing: wait until Kafka answers, then make sure the topics exist."""

from __future__ import annotations

import logging

from ingest.kafka_io import wait_for_kafka
from ingest.topics import ensure_topics
from pilot.settings import Settings

log = logging.getLogger(__name__)


def prepare_kafka(settings: Settings, purpose: str, partitions: int | None = None,
                  retention_hours: int | None = None, timeout: float = 300.0) -> None:
    """Wait for the broker (backing off, saying what for), then create missing topics."""
    if partitions is not None and partitions < 1:
        from pilot.errors import PilotError

        raise PilotError(f"--partitions must be at least 1, got {partitions}")
    wait_for_kafka(settings, purpose, timeout=timeout)
    created = ensure_topics(settings, partitions=partitions, retention_hours=retention_hours)
    if created:
        log.info("created topics %s (%d partitions, retention %d h)", ", ".join(created),
                 partitions or settings.kafka_partitions, retention_hours or settings.kafka_retention_hours)
