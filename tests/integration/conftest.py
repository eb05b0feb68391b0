"""The real stack for integration tests: reuse a running one, or start it once per session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hdfs import InsecureClient

from marts.hive import HiveSession
from pilot.settings import Settings, get_settings
from stack import manager


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
