"""Send rejected records to ``smartcar-dlq``; flushed before the loader commits their offsets."""

from __future__ import annotations

from typing import Any

from ingest.closing import Closing
from ingest.dlq import DeadLetter, raw_text
from ingest.kafka_io import make_producer
from ingest.records import Rejected
from pilot.settings import Settings


class DeadLetterSender(Closing):
    """``with DeadLetterSender(...) as dlq:`` flushes and closes the producer at the end."""

    def __init__(self, s: Settings, source: str, producer: Any | None = None) -> None:
        self.topic = s.topic_dlq
        self.source = source
        self._settings = s
        self._producer = producer
        self.sent = 0
        self.pending = 0

    @property
    def producer(self) -> Any:
        if self._producer is None:  # created on the first rejected record only
            self._producer = make_producer(self._settings, client_id=f"pilot-{self.source.replace(':', '-')}")
        return self._producer

    def send(self, record: Any, error: Rejected) -> None:
        """``record``: a consumed message (``confluent_kafka.Message`` interface)."""
        value = record.value()
        letter = DeadLetter(
            source=self.source, reason=error.reason, message=error.message,
            raw=raw_text(value if value is not None else b""),
            offset=f"{record.topic()}/{record.partition()}@{record.offset()}",
        )
        self.producer.send(self.topic, key=record.key(), value=letter.to_json())
        self.sent += 1
        self.pending += 1

    def flush(self) -> None:
        """Block until every dead letter is acknowledged (the producer retries while Kafka is away)."""
        if self.pending and self._producer is not None:
            self.pending = 0  # letters sent while flushing are counted for the next flush
            self._producer.flush()

    def close(self) -> None:
        if self._producer is not None:
            self._producer.flush()
            self._producer.close()
            self._producer = None
