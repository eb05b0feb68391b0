"""A fake Kafka broker and producer for the collectors' unit tests (no services needed).

The broker's ``log`` is what a consumer would read (``read_committed``): records are appended
when "written", which may happen although the producer's future fails (a lost acknowledgement).
A transactional producer's records are held until its transaction commits; a new producer of
the same transactional id aborts them and fences the old producer.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from kafka.errors import IllegalStateError, KafkaTimeoutError, ProducerFencedError

from ingest.collectors.outbox import Outbox
from ingest.collectors.transactions import TransactionalOutbox
from pilot.settings import Settings


class Crash(BaseException):
    """Raised by the fake producer to simulate the collector process dying mid-batch."""


class FakeFuture:
    def __init__(self) -> None:
        self.is_done = False
        self.exception: BaseException | None = None
        self.value: Any = None

    def succeed(self) -> None:
        self.is_done, self.value = True, "ok"

    def fail(self, exc: BaseException) -> None:
        self.is_done, self.exception = True, exc

    def get(self, timeout: float | None = None) -> Any:
        if not self.is_done:
            raise KafkaTimeoutError(f"not done after {timeout} s")
        if self.exception is not None:
            raise self.exception
        return self.value


class FakeBroker:
    """modes: up | down (futures fail, nothing written) | lost_ack (written, futures fail) |
    hang (futures stay open until :meth:`recover`) | no_metadata (send() raises)."""

    def __init__(self) -> None:
        self.log: list[tuple[str, bytes, bytes]] = []
        self.mode = "up"
        self.crash_after: int | None = None
        self.sends = 0
        self.producers: list[FakeProducer] = []
        self.hanging: list[tuple[str, bytes, bytes, FakeFuture]] = []
        self.error: BaseException = KafkaTimeoutError("broker down")
        self.open_transactions: dict[str, list[tuple[str, bytes, bytes]]] = {}
        self.epochs: dict[str, int] = {}
        self.commits = 0

    def producer(self, settings: Settings | None = None, transactional_id: str | None = None,
                 **config: Any) -> FakeProducer:
        producer = FakeProducer(self, transactional_id)
        self.producers.append(producer)
        return producer

    def write(self, producer: FakeProducer, record: tuple[str, bytes, bytes]) -> None:
        if producer.transactional_id is None:
            self.log.append(record)
        else:
            self.open_transactions.setdefault(producer.transactional_id, []).append(record)

    def ledger(self, source: str, topic: str = "ledger") -> dict[str, Any] | None:
        """The latest committed ledger entry of ``source`` (as ``read_entry`` reads it)."""
        entries = [value for t, key, value in self.log if t == topic and key == source.encode()]
        return json.loads(entries[-1]) if entries else None

    def recover(self) -> None:
        """The broker is back: hanging records are written and acknowledged."""
        self.mode = "up"
        for topic, key, value, future in self.hanging:
            self.log.append((topic, key, value))
            future.succeed()
        self.hanging.clear()

    def values(self, topic: str) -> list[bytes]:
        return [value for t, _, value in self.log if t == topic]

    def records(self, topic: str) -> list[tuple[bytes, bytes]]:
        return [(key, value) for t, key, value in self.log if t == topic]


class FakeProducer:
    def __init__(self, broker: FakeBroker, transactional_id: str | None = None) -> None:
        self.broker = broker
        self.closed = False
        self.transactional_id = transactional_id
        self.epoch = 0

    # ---- transactions ------------------------------------------------------------------------
    def init_transactions(self) -> None:
        tid = self.transactional_id
        assert tid is not None
        if self.broker.mode == "no_metadata":  # nothing answers
            raise KafkaTimeoutError("Timeout expired while initializing transactional state")
        self.broker.open_transactions.pop(tid, None)  # the older producer's transaction is aborted
        self.epoch = self.broker.epochs[tid] = self.broker.epochs.get(tid, 0) + 1

    def _check_epoch(self) -> None:
        if self.transactional_id and self.broker.epochs.get(self.transactional_id) != self.epoch:
            raise ProducerFencedError("there is a newer producer with the same transactional id")

    def begin_transaction(self) -> None:
        self._check_epoch()

    def commit_transaction(self) -> None:
        self._check_epoch()
        if self.broker.mode != "up":
            raise KafkaTimeoutError("the commit was not answered")
        self.broker.log.extend(self.broker.open_transactions.pop(self.transactional_id or "", []))
        self.broker.commits += 1

    def send(self, topic: str, value: bytes | None = None, key: bytes | None = None,
             headers: Any = None, partition: int | None = None) -> FakeFuture:
        broker = self.broker
        if self.closed:
            raise IllegalStateError("producer closed")
        if broker.crash_after is not None and broker.sends >= broker.crash_after:
            raise Crash(f"crash after {broker.sends} sends")
        broker.sends += 1
        if broker.mode == "no_metadata":
            raise KafkaTimeoutError("Failed to update metadata after 60.0 secs.")
        future = FakeFuture()
        assert isinstance(key, bytes) and isinstance(value, bytes)
        if broker.mode == "up":
            broker.write(self, (topic, key, value))
            future.succeed()
        elif broker.mode == "lost_ack":
            broker.write(self, (topic, key, value))
            future.fail(KafkaTimeoutError("acknowledgement lost"))
        elif broker.mode == "down":
            future.fail(broker.error)
        elif broker.mode == "hang":
            broker.hanging.append((topic, key, value, future))
        return future

    def partitions_for(self, topic: str) -> set[int]:
        return {0, 1, 2}

    def flush(self, timeout: float | None = None) -> None:
        return None

    def close(self, timeout: float | None = None) -> None:
        if self.closed:
            return
        self.closed = True
        for item in list(self.broker.hanging):  # force close: open futures fail
            item[3].fail(IllegalStateError("Producer is closed forcefully."))
            self.broker.hanging.remove(item)


def settings(tmp_path: Path) -> Settings:
    return dataclasses.replace(Settings(), var_dir=tmp_path / "var", topic_status="status",
                               topic_drive="drive", topic_dlq="dlq", topic_collect_ledger="ledger")


def outbox(s: Settings, broker: FakeBroker, messages: list[str] | None = None, **kw: Any) -> Outbox:
    said = messages if messages is not None else []
    defaults: dict[str, Any] = {"wait_step": 0.0, "give_up_after": 0.0, "sleep": lambda _: None,
                                "wait_for_broker": lambda: None, "say": said.append}
    defaults.update(kw)
    return Outbox(s, "a test", producer_factory=broker.producer, **defaults)


def transactional_outbox(s: Settings, broker: FakeBroker, source: str,
                         messages: list[str] | None = None, **kw: Any) -> TransactionalOutbox:
    said = messages if messages is not None else []
    defaults: dict[str, Any] = {"wait_step": 0.0, "stall_after": 0.0, "sleep": lambda _: None,
                                "wait_for_broker": lambda: None, "say": said.append,
                                "ledger_reader": broker.ledger}
    defaults.update(kw)
    return TransactionalOutbox(s, "a test", source, producer_factory=broker.producer, **defaults)
