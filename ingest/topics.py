"""Create the project's Kafka topics explicitly, with their partition count and retention."""

from __future__ import annotations

import contextlib

from pilot.settings import Settings


def topic_names(s: Settings) -> tuple[str, ...]:
    return (s.topic_status, s.topic_drive, s.topic_dlq)


def ensure_topics(s: Settings, partitions: int | None = None,
                  retention_hours: int | None = None) -> list[str]:
    """Create missing topics; return the names created. Existing topics are left as they are."""
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    partitions = partitions or s.kafka_partitions
    retention_ms = str((retention_hours or s.kafka_retention_hours) * 3600 * 1000)
    with contextlib.closing(KafkaAdminClient(bootstrap_servers=s.kafka_bootstrap,
                                             client_id="pilot-admin")) as admin:
        existing = set(admin.list_topics())
        wanted = [
            NewTopic(name, num_partitions=partitions, replication_factor=s.kafka_replication_factor,
                     topic_configs={"retention.ms": retention_ms, "compression.type": "producer"})
            for name in topic_names(s) if name not in existing
        ]
        if s.topic_collect_ledger not in existing:
            # one entry per source, kept for good: compacted, never deleted by age
            wanted.append(NewTopic(s.topic_collect_ledger, num_partitions=1,
                                   replication_factor=s.kafka_replication_factor,
                                   topic_configs={"cleanup.policy": "compact"}))
        if wanted:
            with contextlib.suppress(TopicAlreadyExistsError):  # created concurrently meanwhile
                admin.create_topics(wanted)
        return [t.name for t in wanted]
