"""The transactional outbox: records and ledger entry commit together, failures send it again."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.collectors.transactions import Fenced
from pilot.errors import PilotError
from tests.unit.test_collectors_fakes import FakeBroker, settings, transactional_outbox

SOURCE = "live/test"


def records(n: int, prefix: str = "v") -> dict[str, list[tuple[bytes, bytes]]]:
    return {"drive": [(b"A%04d" % (i % 7 + 1), f"{prefix}{i}".encode()) for i in range(n)]}


def test_records_are_visible_only_with_their_ledger_entry(tmp_path: Path) -> None:
    broker = FakeBroker()
    box = transactional_outbox(settings(tmp_path), broker, SOURCE)
    box.submit(records(10))
    assert broker.values("drive") == [] and broker.ledger(SOURCE) is None
    box.commit({"position": 10})
    assert broker.values("drive") == [f"v{i}".encode() for i in range(10)]
    assert broker.ledger(SOURCE) == {"position": 10}
    assert (box.committed, box.transactions, box.resent) == (10, 1, 0)


def test_a_failed_commit_is_sent_again_by_a_new_producer(tmp_path: Path) -> None:
    broker = FakeBroker()
    said: list[str] = []
    box = transactional_outbox(settings(tmp_path), broker, SOURCE, said)
    box.submit(records(5))
    broker.mode = "lost_ack"  # written into the transaction, never acknowledged

    def recover(_: float) -> None:
        broker.mode = "up"

    box.sleep = recover
    box.commit({"position": 5})
    assert broker.values("drive") == [f"v{i}".encode() for i in range(5)]  # once, not twice
    assert box.resent == 5 and len(broker.producers) == 2
    assert any("did not commit a transaction of 5 records" in m for m in said)


def test_a_commit_that_reached_the_broker_is_not_sent_again(tmp_path: Path) -> None:
    """The answer to the commit is lost: after reconnecting the ledger shows it went through."""
    broker = FakeBroker()
    box = transactional_outbox(settings(tmp_path), broker, SOURCE)
    box.submit(records(3))
    producer = broker.producers[-1]
    real_commit = producer.commit_transaction

    def commit_then_lose_the_answer() -> None:
        real_commit()
        raise TimeoutError("the answer was lost")

    producer.commit_transaction = commit_then_lose_the_answer  # type: ignore[method-assign]
    with pytest.raises(TimeoutError):  # not a Kafka error: a bug would surface, not be retried
        box.commit({"position": 3})
    assert broker.values("drive") == [b"v0", b"v1", b"v2"]


def test_an_older_producer_of_the_source_is_fenced(tmp_path: Path) -> None:
    broker = FakeBroker()
    s = settings(tmp_path)
    old = transactional_outbox(s, broker, SOURCE)
    old.submit(records(4, "old"))
    new = transactional_outbox(s, broker, SOURCE)  # a retry of the same task
    with pytest.raises(Fenced, match="another collector of live/test"):
        old.commit({"position": 4})
    new.submit(records(2, "new"))
    new.commit({"position": 2})
    assert broker.values("drive") == [b"new0", b"new1"]  # the old transaction was aborted


def test_refused_records_stop_after_a_few_attempts(tmp_path: Path) -> None:
    from kafka.errors import MessageSizeTooLargeError

    broker = FakeBroker()
    broker.error = MessageSizeTooLargeError("too large")  # not retriable
    box = transactional_outbox(settings(tmp_path), broker, SOURCE)
    box.submit(records(2))
    broker.mode = "down"
    with pytest.raises(PilotError, match="refused a transaction of 2 records 3 times"):
        box.commit({"position": 2})
