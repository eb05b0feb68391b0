"""The outbox: confirmation, waiting for Kafka, resending exactly what was not confirmed."""

from __future__ import annotations

from pathlib import Path

import pytest
from kafka.errors import KafkaTimeoutError, UnknownTopicOrPartitionError

from ingest.collectors.delivery import SendAppender, make_appender
from pilot.errors import PilotError
from tests.unit.test_collectors_fakes import FakeBroker, outbox, settings


def records(n: int, prefix: str = "v") -> dict[str, list[tuple[bytes, bytes]]]:
    return {"drive": [(b"A%04d" % (i % 7 + 1), f"{prefix}{i}".encode()) for i in range(n)]}


def test_confirmed_ticket_runs_its_callback(tmp_path: Path) -> None:
    broker = FakeBroker()
    box = outbox(settings(tmp_path), broker)
    done: list[int] = []
    box.submit(records(10), on_confirmed=lambda: done.append(1))
    assert done == [1]  # max_tickets=0: confirmed before submit returns
    assert broker.values("drive") == [f"v{i}".encode() for i in range(10)]
    assert box.confirmed == 10 and box.resent == 0


def test_fake_producer_uses_the_public_send_path(tmp_path: Path) -> None:
    broker = FakeBroker()
    assert isinstance(make_appender(broker.producer(), "auto"), SendAppender)
    assert isinstance(make_appender(broker.producer(), "bulk"), SendAppender)  # falls back
    with pytest.raises(ValueError, match="send mode"):
        make_appender(broker.producer(), "fast")


def test_broker_down_records_are_resent_with_a_new_producer(tmp_path: Path) -> None:
    broker = FakeBroker()
    said: list[str] = []
    reconnects: list[int] = []

    def back() -> None:
        reconnects.append(1)
        broker.mode = "up"

    box = outbox(settings(tmp_path), broker, said, wait_for_broker=back)
    broker.mode = "down"
    box.submit(records(5))
    assert broker.values("drive") == [f"v{i}".encode() for i in range(5)]  # once each, in order
    assert box.resent == 5 and reconnects == [1]
    assert len(broker.producers) == 2 and broker.producers[0].closed
    assert any("did not confirm 5 of 5 records" in m and "resending" in m for m in said)


def test_lost_acknowledgements_give_duplicates_of_that_batch_only(tmp_path: Path) -> None:
    broker = FakeBroker()
    box = outbox(settings(tmp_path), broker, wait_for_broker=lambda: setattr(broker, "mode", "up"))
    box.submit(records(3, "a"))
    broker.mode = "lost_ack"
    box.submit(records(3, "b"))
    box.submit(records(3, "c"))
    values = broker.values("drive")
    assert sorted(set(values)) == sorted({f"{p}{i}".encode() for p in "abc" for i in range(3)})
    duplicated = {v for v in values if values.count(v) > 1}
    assert duplicated == {b"b0", b"b1", b"b2"}


def test_waiting_for_kafka_is_reported_and_nothing_resent_when_it_comes_back(tmp_path: Path) -> None:
    broker = FakeBroker()
    said: list[str] = []

    def say(message: str) -> None:
        said.append(message)
        if len(said) == 3:
            broker.recover()

    box = outbox(settings(tmp_path), broker, give_up_after=3600.0, say=say)
    broker.mode = "hang"
    box.submit(records(4))
    assert said[0].startswith("waiting for Kafka at 127.0.0.1:9092 (4 records pending")
    assert broker.values("drive") == [f"v{i}".encode() for i in range(4)]
    assert box.resent == 0


def test_no_outcome_after_give_up_time_resends(tmp_path: Path) -> None:
    broker = FakeBroker()
    box = outbox(settings(tmp_path), broker, wait_for_broker=lambda: setattr(broker, "mode", "up"))
    broker.mode = "hang"
    box.submit(records(4))
    assert broker.values("drive") == [f"v{i}".encode() for i in range(4)]
    assert box.resent == 4


def test_send_raising_is_not_a_crash_the_rest_is_resent(tmp_path: Path) -> None:
    broker = FakeBroker()
    said: list[str] = []
    box = outbox(settings(tmp_path), broker, said, wait_for_broker=lambda: setattr(broker, "mode", "up"))
    broker.mode = "no_metadata"
    box.submit(records(6))
    assert broker.values("drive") == [f"v{i}".encode() for i in range(6)]
    assert any("Failed to update metadata" in m for m in said)


def test_nonretriable_error_gives_up_with_a_clear_error(tmp_path: Path) -> None:
    broker = FakeBroker()
    broker.mode = "down"
    broker.error = UnknownTopicOrPartitionError("no such topic")
    broker.error.retriable = False  # type: ignore[misc]
    box = outbox(settings(tmp_path), broker)
    with pytest.raises(PilotError, match="refused 2 records 3 times"):
        box.submit(records(2))


def test_window_confirms_oldest_first(tmp_path: Path) -> None:
    broker = FakeBroker()
    box = outbox(settings(tmp_path), broker, max_tickets=2)
    order: list[int] = []
    for i in range(5):
        box.submit(records(1, f"t{i}-"), on_confirmed=lambda i=i: order.append(i))
    assert order == [0, 1, 2]
    box.drain()
    assert order == [0, 1, 2, 3, 4]
    assert box.pending_records == 0


def testretriable_classification() -> None:
    from ingest.collectors.outbox import retriable

    assert retriable(KafkaTimeoutError("x"))
    assert retriable(None)
    assert not retriable(ValueError("bad"))


def test_outbox_is_a_context_manager_that_closes_its_producer(tmp_path: Path) -> None:
    broker = FakeBroker()
    with outbox(settings(tmp_path), broker) as box:
        box.submit(records(4))
        box.drain()
        assert not broker.producers[0].closed
    assert broker.producers[0].closed and box.confirmed == 4
    with pytest.raises(RuntimeError, match="inside"), outbox(settings(tmp_path), broker):
        raise RuntimeError("inside the block")
    assert broker.producers[1].closed
