"""Send rejected records to ``smartcar-dlq``; acknowledged before the loader commits their offsets.

A producer's ``flush`` returns when every send has ended, also when one ended in failure (say the
delivery timeout passed while Kafka was away): each send's future is checked, and a letter Kafka
did not acknowledge stops the loader before it commits the offsets that letter covers.
"""

from __future__ import annotations

from typing import Any

from ingest.closing import Closing
from ingest.dlq import DeadLetter, raw_text
from ingest.kafka_io import make_producer
from ingest.records import Rejected
from pilot.errors import PilotError
from pilot.settings import Settings


class DeadLettersLost(PilotError):
    """Kafka did not acknowledge some dead letters: their offsets must not be committed."""


class DeadLetterSender(Closing):
    """``with DeadLetterSender(...) as dlq:`` flushes and closes the producer at the end."""

    def __init__(self, s: Settings, source: str, producer: Any | None = None) -> None:
        self.topic = s.topic_dlq
        self.source = source
        self._settings = s
        self._producer = producer
        self.sent = 0
        self._unacknowledged: list[Any] = []  # futures of letters sent since the last flush

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
        self._unacknowledged.append(self.producer.send(self.topic, key=record.key(), value=letter.to_json()))
        self.sent += 1

    @property
    def pending(self) -> int:
        return len(self._unacknowledged)

    def flush(self) -> None:
        """Block until every dead letter sent so far is acknowledged; raise if one was not.

        The producer retries while Kafka is away; a letter whose delivery still failed raises
        :class:`DeadLettersLost`, so the caller never commits the offsets it covers.
        """
        if not self._unacknowledged or self._producer is None:
            return
        futures, self._unacknowledged = self._unacknowledged, []
        self._producer.flush()
        failed = [f for f in futures if f is not None and f.failed()]
        if failed:
            raise DeadLettersLost(
                f"Kafka did not acknowledge {len(failed)} of {len(futures)} dead letters for "
                f"{self.topic} ({failed[0].exception}); their offsets are not committed and the "
                f"records will be read again. Is Kafka up? (`pilot stack status`)")

    def close(self) -> None:
        if self._producer is not None:
            try:
                self.flush()
            finally:
                self._producer.close()
                self._producer = None
