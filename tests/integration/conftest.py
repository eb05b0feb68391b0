"""The real stack for integration tests: reuse a running one, or start it once per session."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator

import pytest
from hdfs import InsecureClient

from ingest.topics import ensure_topics
from marts.hive import HiveSession
from pilot.settings import Settings, get_settings
from stack import manager
from stack.services import hbase
from tests.support.hbase import drop_table


@pytest.fixture(scope="session")
def stack() -> Iterator[Settings]:
    """Every service up and ready. Services this fixture started are stopped at the end
    (set PILOT_KEEP_STACK=1 to leave them running for the next run)."""
    s = get_settings()
    already_up = {st.name for st in manager.status(s) if st.state == "up"}
    manager.up(s)
    yield s
    if os.environ.get("PILOT_KEEP_STACK") != "1":
        started = [st.name for st in manager.status(s) if st.name not in already_up]
        manager.down(s, started)


@pytest.fixture(scope="module")
def client(stack: Settings) -> InsecureClient:
    """WebHDFS client of the running stack."""
    return InsecureClient(stack.webhdfs_url, user=stack.hdfs_user)


@pytest.fixture(scope="module")
def hive(stack: Settings) -> Iterator[HiveSession]:
    """One HiveServer2 session per test module."""
    session = HiveSession(stack)
    yield session
    session.close()


# The loader tests' own topics and HBase table: the DAG's real-time load (default group, default
# topics) must never re-read their far-future test days into the table they check.
LOADER_TEST_SETTINGS = {
    "topic_drive": "it-loaders-drive",
    "topic_status": "it-loaders-status",
    "topic_dlq": "it-loaders-dlq",
    "hbase_table": "ItLoadersDriverCarInfo",
}


def loader_test_env() -> dict[str, str]:
    """The same as ``PILOT_*`` variables, for loader subprocesses."""
    return {f"PILOT_{name.upper()}": value for name, value in LOADER_TEST_SETTINGS.items()}


@pytest.fixture(scope="session")
def loader_stack(stack: Settings) -> Iterator[Settings]:
    """Settings pointing the loaders at the test topics and a fresh test table (dropped after)."""
    s = dataclasses.replace(stack, **LOADER_TEST_SETTINGS)
    ensure_topics(s)
    drop_table(s)
    hbase.bootstrap(s)
    yield s
    drop_table(s)


