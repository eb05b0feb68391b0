"""A small PyHive session for the Hive SQL endpoint (Spark Thrift Server, HiveServer2 protocol)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pilot.errors import InvalidInput, PilotError, ServiceUnavailable
from pilot.settings import Settings, get_settings


class HiveQueryError(PilotError):
    """A statement the Hive SQL endpoint rejected."""


def _connection_lost(exc: Exception) -> bool:
    """The endpoint went away (restart, crash), as opposed to rejecting the statement."""
    from thrift.transport.TTransport import TTransportException

    return isinstance(exc, TTransportException | ConnectionError | EOFError | BrokenPipeError)


def _rejected(statement: str, exc: Exception, address: str = "") -> HiveQueryError:
    first = statement.strip().splitlines()[0][:120]
    if _connection_lost(exc):
        return HiveQueryError(f"lost the connection to the Hive SQL endpoint at {address} while running "
                              f"`{first}...` ({short_error(str(exc)) or type(exc).__name__}); check it "
                              f"with `pilot stack status`, then run again")
    if "TIMEDOUT" in str(exc):
        return HiveQueryError(f"Hive cancelled `{first}...`: it ran longer than the session's query "
                              f"timeout (PILOT_HIVE_QUERY_TIMEOUT_SECONDS)")
    return HiveQueryError(f"Hive rejected `{first}...`: {short_error(str(exc))}")


@dataclass(frozen=True)
class Result:
    columns: list[str]
    rows: list[tuple[Any, ...]]


def short_error(message: str) -> str:
    """The useful line of a Spark/Hive error (they arrive as long Java traces)."""
    text = str(message)
    patterns = (r"errorMessage=['\"](.*?)['\"]\)", r"(\[[A-Z_.]+\][^\n]*)", r"(AnalysisException:[^\n]*)")
    for pattern in patterns:
        found = re.search(pattern, text, re.DOTALL)
        if found:
            text = found.group(1)
            break
    text = " ".join(text.split())
    return text if len(text) <= 600 else text[:597] + "..."


class HiveSession:
    def __init__(self, settings: Settings | None = None) -> None:
        from pyhive import hive

        s = settings or get_settings()
        self.address = f"{s.hive_host}:{s.hive_port}"
        try:
            self._conn = hive.connect(s.hive_host, s.hive_port, username=s.hive_user)
        except Exception as exc:  # thrift transport errors have no common base
            raise ServiceUnavailable("Hive SQL endpoint (Spark Thrift Server)", self.address,
                                     short_error(str(exc))) from exc
        self._cursor = self._conn.cursor()
        self._limit_statements(s.hive_query_timeout_seconds)

    @classmethod
    def over(cls, connection: Any, address: str, query_timeout_seconds: int) -> HiveSession:
        """A session over a DB-API connection made elsewhere (e.g. by Airflow's HiveServer2Hook)."""
        session = cls.__new__(cls)
        session.address = address
        session._conn = connection
        session._cursor = connection.cursor()
        session._limit_statements(query_timeout_seconds)
        return session

    def _limit_statements(self, seconds: int) -> None:
        """The endpoint cancels any statement of this session that runs longer than ``seconds``."""
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 1:
            raise InvalidInput(f"the Hive query timeout must be whole seconds >= 1, got {seconds!r}")
        self._cursor.execute(f"SET spark.sql.thriftServer.queryTimeout={seconds}")

    def __enter__(self) -> HiveSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def execute(self, statement: str) -> None:
        try:
            self._cursor.execute(statement)
        except Exception as exc:
            raise _rejected(statement, exc, self.address) from exc

    def query(self, statement: str, max_rows: int | None = None) -> Result:
        self.execute(statement)
        try:  # a statement can still fail while its rows are fetched (e.g. cancelled on timeout)
            columns = [d[0].split(".")[-1] for d in (self._cursor.description or [])]
            rows = self._cursor.fetchmany(max_rows) if max_rows is not None else self._cursor.fetchall()
        except Exception as exc:
            raise _rejected(statement, exc, self.address) from exc
        return Result(columns, [tuple(r) for r in rows])

    def scalar(self, statement: str) -> Any:
        result = self.query(statement, 1)
        return result.rows[0][0] if result.rows else None

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a dead connection is not worth an error
            self._conn.close()


@contextmanager
def hive_session(settings: Settings | None = None) -> Iterator[HiveSession]:
    session = HiveSession(settings)
    try:
        yield session
    finally:
        session.close()
