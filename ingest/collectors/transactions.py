"""Exactly-once delivery of one source's records: Kafka transactions that end with a ledger entry.

:meth:`TransactionalOutbox.submit` hands records to the producer inside the open transaction;
:meth:`TransactionalOutbox.commit` adds the source's ledger entry (:mod:`ingest.collectors.ledger`)
and commits, so the records and the position they bring the source to become visible together.
Readers use ``read_committed`` (the loaders' librdkafka default), so records of a transaction
that never committed, because the collector was killed or Kafka went away, are never read.

One transactional id per source: a new outbox for the source (a restarted collector, an Airflow
retry) fences the previous producer and aborts its open transaction, then continues from the
ledger. If a commit fails, or the producer makes no progress for ``stall_after`` seconds
(kafka-python's transactional sender can stay stuck after its coordinator went away), the outbox
reconnects (which completes or aborts what the broker holds), asks the ledger whether the commit
went through, and otherwise sends the whole transaction again. A fenced outbox (another
collector of the same source took over) stops with an error instead of writing anything more.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from ingest.closing import Closing
from ingest.collectors.delivery import Appender, Delivery, Records, count, make_appender
from ingest.collectors.ledger import entry_record, read_entry, transactional_id
from ingest.collectors.outbox import NON_RETRIABLE_ATTEMPTS, retriable
from ingest.kafka_io import abandon_producer, make_producer, wait_for_kafka
from pilot.errors import PilotError
from pilot.settings import Settings

log = logging.getLogger(__name__)

ProducerFactory = Callable[..., Any]


class Fenced(PilotError):
    """Another collector of the same source started: this one must stop writing."""


class TransactionalOutbox(Closing):
    """The open transaction of one source; ``with TransactionalOutbox(...) as outbox:`` closes the
    producer at the end of the block (an uncommitted transaction is aborted by the broker)."""

    def __init__(
        self,
        settings: Settings,
        purpose: str,
        source: str,
        *,
        producer_factory: ProducerFactory = make_producer,
        mode: str = "auto",
        wait_step: float = 5.0,
        stall_after: float = 30.0,
        reconnect_timeout: float = 300.0,
        say: Callable[[str], None] = log.warning,
        sleep: Callable[[float], None] = time.sleep,
        wait_for_broker: Callable[[], None] | None = None,
        ledger_reader: Callable[[str], dict[str, Any] | None] | None = None,
    ) -> None:
        self.settings = settings
        self.purpose = purpose
        self.source = source
        self.factory = producer_factory
        self.mode = mode
        self.wait_step = wait_step
        self.stall_after = stall_after
        self.say = say
        self.sleep = sleep
        self.wait_for_broker = wait_for_broker or (
            lambda: wait_for_kafka(settings, purpose, timeout=reconnect_timeout, say=say))
        self.read_ledger = ledger_reader or (lambda key: read_entry(settings, key))
        self.open: list[Records] = []
        self.deliveries: list[Delivery] = []
        self.open_records = 0
        self.opened_at = 0.0
        self.committed = 0  # records in committed transactions
        self.transactions = 0
        self.resent = 0
        self.producer: Any = None
        self.appender: Appender
        self._connect()

    @property
    def send_mode(self) -> str:
        return self.appender.name

    def _connect(self) -> None:
        """A producer of the source's transactional id; waits for Kafka while it is away."""
        from kafka.errors import KafkaError

        attempts = 0
        while True:
            producer = self.factory(self.settings, transactional_id=transactional_id(self.source))
            try:
                producer.init_transactions()  # fences an older producer of the source, aborts its transaction
                break
            except KafkaError as exc:
                abandon_producer(producer)
                attempts += 1
                if not retriable(exc) and attempts >= NON_RETRIABLE_ATTEMPTS:
                    raise PilotError(f"Kafka at {self.settings.kafka_bootstrap} refused to start a "
                                     f"transaction for {self.source} ({self.purpose}): {exc}") from exc
                self.say(f"Kafka at {self.settings.kafka_bootstrap} did not start a transaction for "
                         f"{self.source} ({exc}); trying again once Kafka answers ({self.purpose})")
                self.wait_for_broker()
            except BaseException:
                abandon_producer(producer)
                raise
        self.producer = producer
        self.appender = make_appender(producer, self.mode)

    # ---- the open transaction ----------------------------------------------------------------
    def submit(self, records: Records) -> None:
        """Hand ``records`` to Kafka inside the open transaction (started if there is none)."""
        if not self.open:
            self._begin()
        self.open.append(records)
        self.open_records += count(records)
        self.deliveries.append(self.appender.append(records))

    def age(self) -> float:
        """Seconds since the open transaction started (0 when none is open)."""
        return time.monotonic() - self.opened_at if self.open else 0.0

    def commit(self, state: dict[str, Any]) -> None:
        """Commit what was submitted since the last commit with the source's ledger entry ``state``."""
        attempts = 0
        if not self.open:
            self._begin()
        while True:
            self.deliveries.append(self.appender.append(entry_record(self.settings, self.source, state)))
            error = self._try_commit()
            if error is None:
                break
            attempts += 1
            if not retriable(error) and attempts >= NON_RETRIABLE_ATTEMPTS:
                raise PilotError(f"Kafka at {self.settings.kafka_bootstrap} refused a transaction of "
                                 f"{self.open_records:,} records {attempts} times ({self.purpose}): {error}")
            delay = min(30.0, 2.0 ** min(attempts - 1, 5))
            self.say(f"Kafka at {self.settings.kafka_bootstrap} did not commit a transaction of "
                     f"{self.open_records:,} records ({error}); trying again in {delay:.0f} s, once "
                     f"Kafka answers ({self.purpose})")
            self.sleep(delay)
            self._reconnect()
            if self.read_ledger(self.source) == state:  # the commit did reach the broker
                break
            self._begin()
            self.deliveries = []
            for records in self.open:
                self.deliveries.append(self.appender.append(records))
            self.resent += self.open_records
        self.committed += self.open_records
        self.transactions += 1
        self.open, self.deliveries, self.open_records = [], [], 0

    def close(self, timeout: float = 10.0) -> None:
        try:
            self.producer.close(timeout=timeout)
        except Exception as exc:  # closing must not hide the run's own outcome
            log.debug("closing the producer: %s", exc)

    # ---- internals ---------------------------------------------------------------------------
    def _begin(self) -> None:
        self._fenced_guard(self.producer.begin_transaction)
        self.opened_at = time.monotonic()

    def _try_commit(self) -> BaseException | None:
        """None if the transaction committed, else why not (the transaction is then abandoned)."""
        from kafka.errors import KafkaError

        started = progressed = time.monotonic()
        for delivery in self.deliveries:
            left = delivery.unconfirmed()
            while not delivery.wait(self.wait_step):
                now = time.monotonic()
                if delivery.unconfirmed() < left:
                    left, progressed = delivery.unconfirmed(), now
                if now - progressed >= self.stall_after:  # the producer is stuck: start over
                    return TimeoutError(f"no acknowledgement for {now - progressed:.0f} s")
                self.say(f"waiting for Kafka at {self.settings.kafka_bootstrap} ({self.open_records:,} "
                         f"records of the open transaction, {self.purpose}, {now - started:.0f} s so far)")
            failed, error = delivery.failed()
            if failed:
                return error or RuntimeError(f"{count(failed):,} records not acknowledged")
        try:
            return self._fenced_guard(self._end_transaction)
        except KafkaError as exc:
            return exc

    def _end_transaction(self) -> BaseException | None:
        manager = getattr(self.producer, "_transaction_manager", None)
        if manager is None:  # not kafka-python (a test double): its own blocking commit
            self.producer.commit_transaction()
            return None
        result = manager.begin_commit()
        self.producer._sender.wakeup()
        started = time.monotonic()
        while not result.wait(timeout_ms=self.wait_step * 1000):
            waited = time.monotonic() - started
            if waited >= self.stall_after:
                return TimeoutError(f"the commit was not answered within {waited:.0f} s")
            self.say(f"waiting for Kafka at {self.settings.kafka_bootstrap} to commit a transaction "
                     f"({self.purpose}, {waited:.0f} s so far)")
        return None

    def _fenced_guard(self, action: Callable[[], Any]) -> Any:
        from kafka.errors import InvalidProducerEpochError, ProducerFencedError

        try:
            return action()
        except (ProducerFencedError, InvalidProducerEpochError) as exc:
            raise Fenced(f"another collector of {self.source} started ({exc}); this one stops "
                         f"({self.purpose})") from exc

    def _reconnect(self) -> None:
        abandon_producer(self.producer)
        self.wait_for_broker()
        self._connect()


def outboxes(settings: Settings, purpose: str, mode: str = "auto",
             reconnect_timeout: float = 300.0) -> Callable[[str], TransactionalOutbox]:
    """A factory of transactional outboxes, one per source, configured alike."""
    def open_outbox(source: str) -> TransactionalOutbox:
        return TransactionalOutbox(settings, purpose, source, mode=mode, reconnect_timeout=reconnect_timeout)

    return open_outbox
