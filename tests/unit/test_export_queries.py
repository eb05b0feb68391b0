"""The inspection question reads the emergency mart's export target (no PostgreSQL needed)."""

from __future__ import annotations

from typing import Any

import pytest
from psycopg2 import sql

from export import queries
from export.plan import default_target
from export.target import TargetName
from marts.catalog import get_mart
from pilot.dates import Day
from pilot.errors import InvalidInput


class FakeCursor:
    def __init__(self, log: list[Any]) -> None:
        self.log = log

    def __enter__(self) -> FakeCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.log.append("cursor closed")

    def execute(self, statement: Any, params: tuple[Any, ...]) -> None:
        self.log.append((statement, params))

    def fetchall(self) -> list[tuple[str, str]]:
        return [("A0001", "Tire Check, Battery Check"), ("B0002", "Light Check")]


class FakeConnection:
    def __init__(self, log: list[Any]) -> None:
        self.log = log

    def cursor(self) -> FakeCursor:
        return FakeCursor(self.log)

    def close(self) -> None:
        self.log.append("connection closed")


@pytest.fixture
def log(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    calls: list[Any] = []

    def connect(dsn: str) -> FakeConnection:
        calls.append(dsn)
        return FakeConnection(calls)

    monkeypatch.setattr(queries.psycopg2, "connect", connect)
    return calls


def test_cars_needing_inspection_queries_the_export_target(log: list[Any]) -> None:
    cars = queries.cars_needing_inspection("dbname=pilot", "20200322", limit=5)
    assert cars == [("A0001", "Tire Check, Battery Check"), ("B0002", "Light Check")]
    dsn, (statement, params), *closed = log
    assert dsn == "dbname=pilot"
    assert params == ("20200322", 5)
    target = TargetName.parse(default_target(get_mart("emergency")))
    assert isinstance(statement, sql.Composed) and target.sql in statement.seq
    assert target.sql == sql.Identifier("public", "smartcar_emergency_check_info")
    text = " ".join(part.string for part in statement.seq if isinstance(part, sql.SQL))
    assert "WHERE biz_date = to_date(%s, 'YYYYMMDD')" in text
    assert "ORDER BY check_count DESC, car_number LIMIT %s" in text
    assert closed == ["cursor closed", "connection closed"]


def test_cars_needing_inspection_takes_a_day_and_refuses_bad_dates(log: list[Any]) -> None:
    queries.cars_needing_inspection("dbname=pilot", Day.parse("20200322"))
    assert log[1][1] == ("20200322", 20)
    before = list(log)
    with pytest.raises(InvalidInput):
        queries.cars_needing_inspection("dbname=pilot", "2020-03-22")
    assert log == before  # the refused date never opened a connection
