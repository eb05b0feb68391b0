"""Resources of the stages that must be closed work as context managers (no services needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.loaders.dead_letters import DeadLetterSender
from ingest.loaders.hbase_sink import HBaseSink
from ingest.records import Rejected
from pilot.settings import Settings, load_settings


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return load_settings(environ={"PILOT_VAR_DIR": str(tmp_path)}, env_file=tmp_path / "none.env")


class FakeProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes]] = []
        self.flushed = self.closed = False

    def send(self, topic: str, key: bytes, value: bytes) -> None:
        self.sent.append((topic, key, value))

    def flush(self) -> None:
        self.flushed = True

    def close(self) -> None:
        self.closed = True


class Message:
    def value(self) -> bytes:
        return b"not,a,line"

    def key(self) -> bytes:
        return b"A0001"

    def topic(self) -> str:
        return "SmartCar-Topic"

    def partition(self) -> int:
        return 1

    def offset(self) -> int:
        return 42


def test_dead_letters_are_flushed_and_the_producer_closed_at_the_end_of_the_block(settings: Settings) -> None:
    producer = FakeProducer()
    with DeadLetterSender(settings, "loader:test", producer=producer) as dlq:
        dlq.send(Message(), Rejected("field_count", "3 fields, expected 8"))
        assert not producer.closed
    assert producer.flushed and producer.closed
    assert [(topic, key) for topic, key, _ in producer.sent] == [(settings.topic_dlq, b"A0001")]


def test_hbase_sink_closes_its_connection_even_when_the_block_fails(settings: Settings) -> None:
    class Connection:
        closed = False

        def close(self) -> None:
            Connection.closed = True

    with pytest.raises(RuntimeError), HBaseSink(settings) as sink:
        sink.conn = Connection()
        raise RuntimeError("a failed write")
    assert Connection.closed and sink.conn is None
