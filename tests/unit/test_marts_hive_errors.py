"""Errors of the Hive endpoint reach the user as one readable PilotError, also while fetching."""

from __future__ import annotations

from typing import Any

import pytest

from marts.hive import HiveQueryError, HiveSession


class Cursor:
    def __init__(self, fetch_error: Exception | None) -> None:
        self.fetch_error = fetch_error
        self.executed: list[str] = []
        self.description = [("c.x", "int")]

    def execute(self, statement: str) -> None:
        self.executed.append(statement)

    def fetchmany(self, n: int | None = None) -> list[Any]:
        if self.fetch_error:
            raise self.fetch_error
        return [(1,)]

    def fetchall(self) -> list[Any]:
        return self.fetchmany()


class Connection:
    def __init__(self, cursor: Cursor) -> None:
        self._cursor = cursor

    def cursor(self) -> Cursor:
        return self._cursor


def test_a_session_sets_its_query_timeout_first() -> None:
    cursor = Cursor(None)
    HiveSession.over(Connection(cursor), "h:1", 42)
    assert cursor.executed == ["SET spark.sql.thriftServer.queryTimeout=42"]
    with pytest.raises(Exception, match="whole seconds"):
        HiveSession.over(Connection(Cursor(None)), "h:1", 0)


def test_a_statement_cancelled_while_fetching_names_the_timeout() -> None:
    error = RuntimeError("HiveSQLException:Expected state FINISHED, but found TIMEDOUT")
    hive = HiveSession.over(Connection(Cursor(error)), "h:1", 3)
    with pytest.raises(HiveQueryError, match="PILOT_HIVE_QUERY_TIMEOUT_SECONDS"):
        hive.scalar("SELECT slow FROM t")


def test_other_fetch_errors_are_wrapped_too() -> None:
    hive = HiveSession.over(Connection(Cursor(RuntimeError("errorMessage='boom')"))), "h:1", 3)
    with pytest.raises(HiveQueryError, match="boom"):
        hive.query("SELECT 1")
