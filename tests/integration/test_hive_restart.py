"""The Hive endpoint restarted in the middle of a mart build (after the build was written, before
it was published): the build fails with a readable error, readers keep the published partition,
and building again gives the same mart."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hdfs import InsecureClient

from marts import runner
from marts.catalog import get_mart
from marts.hive import HiveQueryError, HiveSession
from pilot.settings import Settings
from stack import manager
from tests.support.devdata import PreparedDay, drop_prepared, prepare_day

DATE = "20200407"  # unique to this module


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory, client: InsecureClient,
        stack: Settings) -> Iterator[PreparedDay]:
    tag = uuid.uuid4().hex[:8]
    prepared = prepare_day(tmp_path_factory.mktemp("hive-restart"), DATE, f"/tmp/pilot-it/hive-restart-{tag}",
                           f"pilot_it_hive_restart_{tag}", client, cars=10)
    with HiveSession(stack) as hive:
        runner.build_marts(DATE, ["status", "drive"], config=prepared.config, log=lambda _: None, hive=hive,
                           hdfs_client=client)
    yield prepared
    with HiveSession(stack) as hive:  # a session opened after the restart
        drop_prepared(hive, client, prepared)


def published(hive: HiveSession, day: PreparedDay, mart: str) -> tuple[Any, ...]:
    """What readers see of the date's partition: rows, a hash of them, and where it lives."""
    count, digest = hive.query(f"SELECT count(*), sum(hash(*)) FROM {day.config.database}.{mart} "
                               f"WHERE biz_date = '{DATE}'").rows[0]
    location = next(row[1] for row in hive.query(
        f"DESCRIBE FORMATTED {day.config.database}.{mart} PARTITION (biz_date = '{DATE}')").rows
        if str(row[0]).strip() == "Location")
    return count, digest, str(location).strip()


def test_hive_restarted_mid_build_keeps_the_partition_and_the_retry_builds_the_same_mart(
        day: PreparedDay, client: InsecureClient, stack: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    mart = get_mart("drive").name
    with HiveSession(stack) as hive:
        before = published(hive, day, mart)
    assert before[0] > 0
    real_gates = runner.gates.run_gates
    restarted: list[bool] = []

    def restart_then_audit(session: Any, checked: Any, params: Any) -> Any:
        """The build is written beside the published partition; now the endpoint goes away."""
        manager.down(stack, ["hive"])
        manager.up(stack, ["hive"])
        restarted.append(True)
        return real_gates(session, checked, params)

    monkeypatch.setattr(runner.gates, "run_gates", restart_then_audit)
    with HiveSession(stack) as hive, pytest.raises(HiveQueryError, match="lost the connection to the Hive"):
        runner.build_marts(DATE, ["drive"], config=day.config, log=lambda _: None, hive=hive,
                           hdfs_client=client)
    assert restarted == [True]
    monkeypatch.undo()
    with HiveSession(stack) as hive:
        assert published(hive, day, mart) == before  # readers still see the last good build
        runner.build_marts(DATE, ["drive"], config=day.config, log=lambda _: None, hive=hive,
                           hdfs_client=client)
        again = published(hive, day, mart)
    assert again[:2] == before[:2]  # the same mart
    assert again[2] != before[2]  # from a new build
