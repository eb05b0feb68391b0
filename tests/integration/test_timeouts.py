"""Hive sessions and export connections carry timeouts: a runaway statement is cancelled by the
service itself, not left to the task's timeout."""

from __future__ import annotations

import dataclasses
import time

import pytest

import export.runner as export_runner
from marts.hive import HiveSession
from pilot.errors import PilotError
from pilot.settings import Settings

# About 10^10 rows: minutes of work for the endpoint's two cores, far beyond the timeout below.
RUNAWAY = "SELECT sum(hash(a.id, b.id)) FROM range(100000) a CROSS JOIN range(100000) b"


def test_a_hive_statement_over_the_session_timeout_is_cancelled(stack: Settings) -> None:
    short = dataclasses.replace(stack, hive_query_timeout_seconds=3)
    with HiveSession(short) as hive:
        assert hive.query("SET spark.sql.thriftServer.queryTimeout").rows[0][-1] in {"3", "3s"}
        started = time.monotonic()
        with pytest.raises(PilotError, match="query timeout"):
            hive.scalar(RUNAWAY)
        assert time.monotonic() - started < 90
        assert hive.scalar("SELECT 1") == 1  # the session stays usable


def test_export_connections_have_connect_and_statement_timeouts(stack: Settings) -> None:
    conn = export_runner._connect(stack)
    try:
        assert conn.get_dsn_parameters()["connect_timeout"] == str(stack.postgres_connect_timeout_seconds)
        with conn.cursor() as cur:
            cur.execute("SELECT current_setting('statement_timeout')")
            expected = stack.postgres_statement_timeout_seconds * 1000
            assert cur.fetchone()[0] in {f"{expected}ms", f"{expected // 1000}s", f"{expected // 3_600_000}h"}
    finally:
        conn.close()
