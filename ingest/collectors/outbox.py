"""Delivery with confirmation: hand records to Kafka in tickets, confirm, resend what failed.

A *ticket* is one batch of records (e.g. the lines of one checkpoint step). :meth:`Outbox.submit`
hands a ticket to the producer; it is *confirmed* when the broker acknowledged every record of
it (``acks=all``), and only then its ``on_confirmed`` callback runs (collectors write their
checkpoint there). ``max_tickets`` tickets (and ``max_records`` records, and tickets no older than
``max_age`` seconds) may be unconfirmed at once; 0 tickets: each ticket is confirmed before
``submit`` returns.

Kafka unavailable: kafka-python itself retries a batch until ``delivery_timeout_ms``. While a
ticket waits longer than ``wait_step`` seconds the outbox says so ("waiting for Kafka at ...
(N records pending)") and keeps waiting. Records that end up not confirmed (failed futures,
``send()`` raising, e.g. no metadata within ``max_block_ms``, or no outcome after
``give_up_after`` seconds) are sent again with a fresh producer, after backing off and after
:func:`ingest.kafka_io.wait_for_kafka` saw the broker answer. A resent record may already have
been written (an acknowledgement lost in the outage): duplicates are possible for those
records only, and loaders drop them by event id.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ingest.closing import Closing
from ingest.collectors.delivery import Appender, Delivery, Records, count, make_appender
from ingest.kafka_io import abandon_producer, make_producer, producer_config, wait_for_kafka
from pilot.errors import PilotError
from pilot.settings import Settings

log = logging.getLogger(__name__)

NON_RETRIABLE_ATTEMPTS = 3


@dataclass
class Ticket:
    records: Records
    delivery: Delivery
    size: int
    on_confirmed: Callable[[], None] | None
    created: float


def retriable(exc: BaseException | None) -> bool:
    if exc is None:
        return True
    from kafka.errors import IllegalStateError, KafkaConnectionError, KafkaTimeoutError

    return bool(getattr(exc, "retriable", False)) or isinstance(
        exc, KafkaTimeoutError | KafkaConnectionError | IllegalStateError | OSError)


class Outbox(Closing):
    """Tickets handed to Kafka and not yet confirmed; ``with Outbox(...) as outbox:`` closes the
    producer at the end of the block (without draining: call :meth:`drain` first)."""

    def __init__(
        self,
        settings: Settings,
        purpose: str,
        *,
        producer_factory: Callable[[Settings], Any] = make_producer,
        mode: str = "auto",
        max_tickets: int = 0,
        max_records: int = 0,
        max_age: float | None = None,
        wait_step: float = 5.0,
        give_up_after: float | None = None,
        reconnect_timeout: float = 300.0,
        say: Callable[[str], None] = log.warning,
        sleep: Callable[[float], None] = time.sleep,
        wait_for_broker: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.purpose = purpose
        self.factory = producer_factory
        self.mode = mode
        self.max_tickets = max_tickets
        self.max_records = max_records
        self.max_age = max_age
        self.wait_step = wait_step
        timeout_ms = producer_config(settings)["delivery_timeout_ms"]
        self.give_up_after = give_up_after if give_up_after is not None else timeout_ms / 1000 + 30
        self.say = say
        self.sleep = sleep
        self.wait_for_broker = wait_for_broker or (
            lambda: wait_for_kafka(settings, purpose, timeout=reconnect_timeout, say=say))
        self.pending: deque[Ticket] = deque()
        self.pending_records = 0
        self.resent = 0
        self.confirmed = 0
        self.producer = producer_factory(settings)
        self.appender: Appender = make_appender(self.producer, mode)

    @property
    def send_mode(self) -> str:
        return self.appender.name

    # ---- handing over ------------------------------------------------------------------------
    def submit(self, records: Records, on_confirmed: Callable[[], None] | None = None) -> None:
        """Hand ``records`` to Kafka; confirm older tickets while more than allowed are pending."""
        size = count(records)
        now = time.monotonic()
        ticket = Ticket(records, self.appender.append(records), size, on_confirmed, now)
        self.pending.append(ticket)
        self.pending_records += size
        while self.pending and (
            len(self.pending) > self.max_tickets
            or (self.max_records and self.pending_records > self.max_records and len(self.pending) > 1)
            or (self.max_age is not None and now - self.pending[0].created > self.max_age)
        ):
            self._confirm(self.pending.popleft())

    def drain(self) -> None:
        """Confirm every pending ticket (in order)."""
        while self.pending:
            self._confirm(self.pending.popleft())
        self.producer.flush()

    def close(self, timeout: float = 10.0) -> None:
        """Close the producer, waiting up to ``timeout`` s for what it still sends."""
        try:
            self.producer.close(timeout=timeout)
        except Exception as exc:  # closing must not hide the run's own outcome
            log.debug("closing the producer: %s", exc)

    # ---- confirmation ------------------------------------------------------------------------
    def _confirm(self, ticket: Ticket) -> None:
        delivery = ticket.delivery
        started = time.monotonic()
        attempts = 0
        while True:
            if not delivery.wait(self.wait_step):
                waited = time.monotonic() - started
                if waited < self.give_up_after:
                    pending = delivery.unconfirmed() + sum(t.size for t in self.pending)
                    self.say(f"waiting for Kafka at {self.settings.kafka_bootstrap} "
                             f"({pending:,} records pending, {self.purpose}, {waited:.0f} s so far)")
                    continue
            failed, error = delivery.failed()
            if not failed:
                break
            attempts += 1
            n = count(failed)
            if not retriable(error) and attempts >= NON_RETRIABLE_ATTEMPTS:
                raise PilotError(f"Kafka at {self.settings.kafka_bootstrap} refused {n:,} records "
                                 f"{attempts} times ({self.purpose}): {error}")
            delay = min(30.0, 2.0 ** min(attempts - 1, 5))
            self.say(f"Kafka at {self.settings.kafka_bootstrap} did not confirm {n:,} of "
                     f"{ticket.size:,} records ({error or 'no answer'}); resending them in "
                     f"{delay:.0f} s, once Kafka answers ({self.purpose})")
            self.sleep(delay)
            self._reconnect()
            self.resent += n
            delivery = self.appender.append(failed)
            started = time.monotonic()
        self.pending_records -= ticket.size
        self.confirmed += ticket.size
        if ticket.on_confirmed is not None:
            ticket.on_confirmed()

    def _reconnect(self) -> None:
        """A fresh producer (a failed idempotent producer may not recover) once Kafka answers."""
        abandon_producer(self.producer)
        self.wait_for_broker()
        self.producer = self.factory(self.settings)
        self.appender = make_appender(self.producer, self.mode)
