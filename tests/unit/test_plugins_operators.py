from __future__ import annotations

import contextlib
import dataclasses
from types import SimpleNamespace

import pytest
from smartcar_plugins import connections
from smartcar_plugins.operators import HdfsPartitionSensor, HiveMartOperator, MartExportOperator

from pilot.dates import Day
from pilot.settings import Settings

CONNECTED = dataclasses.replace(Settings(), hive_host="hive.from.connection",
                                postgres_host="pg.from.connection")


@pytest.fixture
def services(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """The operators' view of the Airflow connections, with fakes for the clients."""
    seen = SimpleNamespace(hdfs=object(), hive=object())

    @contextlib.contextmanager
    def fake_hive(s: Settings):
        assert s is CONNECTED
        yield seen.hive

    monkeypatch.setattr(connections, "connected_settings", lambda base=None: CONNECTED)
    monkeypatch.setattr(connections, "hdfs_client", lambda: seen.hdfs)
    monkeypatch.setattr(connections, "hive_session", fake_hive)
    return seen


def test_mart_operator_builds_the_one_mart_of_its_date(monkeypatch: pytest.MonkeyPatch, services) -> None:
    calls = []

    def fake_build(date, names, settings, log, hive, hdfs_client):
        calls.append((date, names, settings, hive, hdfs_client))
        return [SimpleNamespace(mart=names[0], partition=f"biz_date={date}", rows=7, gates=3, seconds=1.23)]

    import marts.runner

    monkeypatch.setattr(marts.runner, "build_marts", fake_build)
    op = HiveMartOperator(task_id="t", mart="managed_smartcar_symptom_info", biz_date="20200322")
    assert "biz_date" in op.template_fields
    result = op.execute({})
    assert calls == [(Day.parse("20200322"), ["managed_smartcar_symptom_info"], CONNECTED, services.hive,
                      services.hdfs)]
    expected = {"partition": "biz_date=20200322", "rows": 7, "gates": 3, "seconds": 1.2}
    assert result == {"20200322": {"managed_smartcar_symptom_info": expected}}


@pytest.mark.parametrize("bad", ["20201345", "202001 1", ""])
def test_a_bad_date_fails_the_task_without_retries(bad: str, services) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    op = HiveMartOperator(task_id="t", mart="managed_smartcar_symptom_info", biz_date=bad)
    with pytest.raises(AirflowFailException, match="yyyyMMdd"):
        op.execute({})


@pytest.mark.parametrize(("mart", "expected"), [("managed_smartcar_status_info", "20200322"),
                                                ("managed_smartcar_item_buylist_info", "202003")])
def test_export_operator_exports_the_partition(monkeypatch: pytest.MonkeyPatch, mart: str,
                                               expected: str, services) -> None:
    seen = []

    def fake_export(request, settings, log, hdfs_client):
        seen.append((request, settings, hdfs_client))
        return SimpleNamespace(mart=mart, target="public.x", partition=request.biz_date, rows=5, mode="swap",
                               checksum=9, seconds=0.5)

    import export.runner

    monkeypatch.setattr(export.runner, "run_export", fake_export)
    op = MartExportOperator(task_id="e", mart=mart, biz_date="20200322", update_key="biz_date,car_number")
    (result,) = op.execute({}).values()
    assert result["target"] == "public.x" and result["partition"] == expected and result["rows"] == 5
    request, settings, client = seen[0]
    assert request.mart.name == mart and request.biz_date == expected
    assert request.update_key == "biz_date,car_number"
    assert settings is CONNECTED and client is services.hdfs


def test_partition_sensor_ignores_temporary_files(monkeypatch: pytest.MonkeyPatch) -> None:
    import hdfs

    listing: dict[str, list[str]] = {"/p/wrk_date=20200322": ["_status-p0.tmp", ".x"]}

    class FakeClient:
        def list(self, path: str) -> list[str]:
            if path not in listing:
                raise hdfs.util.HdfsError("File does not exist")
            return listing[path]

    monkeypatch.setattr(connections, "hdfs_client", FakeClient)
    sensor = HdfsPartitionSensor(task_id="s", path="/p/wrk_date=20200322")
    assert sensor.poke({}) is False
    listing["/p/wrk_date=20200322"].append("status-p0-000000000000-000000000099.txt")
    assert sensor.poke({}) is True
    assert HdfsPartitionSensor(task_id="s2", path="/p/missing").poke({}) is False


def test_partition_sensor_of_a_table_waits_for_its_collection_partition() -> None:
    s = Settings()
    sensor = HdfsPartitionSensor(task_id="s", table="smartcar_drive_info", wrk_date="20200322")
    assert sensor.partition_paths({}) == [f"{s.hdfs_drive_dir}/wrk_date=20200322"]


def _event(**extra: object) -> SimpleNamespace:
    return SimpleNamespace(extra=extra)


def test_a_run_started_by_asset_events_works_on_every_day_they_name(monkeypatch, services) -> None:
    """A marts run the batch loader's events started (no `date` param) builds each named day, oldest
    first, and names them in its own events; the sensor waits for each day's partition."""
    calls = []

    def fake_build(date, names, settings, log, hive, hdfs_client):
        calls.append(date.text)
        return [SimpleNamespace(mart=names[0], partition=f"biz_date={date}", rows=1, gates=0, seconds=0)]

    from airflow.sdk import Asset

    import marts.runner

    monkeypatch.setattr(marts.runner, "build_marts", fake_build)
    asset = Asset("hive://smartcar/default/x")
    published = SimpleNamespace(extra=None)
    context = {"triggering_asset_events": {
        "a": [_event(biz_date="20200324"), _event(biz_date="20200322")],
        "b": [_event(biz_date="20200322"), _event(biz_dates=["20200323"])]},
        "outlet_events": {asset: published}}
    op = HiveMartOperator(task_id="t", mart="managed_smartcar_symptom_info", biz_date="", outlets=[asset])
    assert list(op.execute(context)) == calls == ["20200322", "20200323", "20200324"]
    assert published.extra == {"biz_date": "20200324", "biz_dates": ["20200322", "20200323", "20200324"]}
    sensor = HdfsPartitionSensor(task_id="s", table="smartcar_drive_info", wrk_date="")
    assert [p.rsplit("=", 1)[1] for p in sensor.partition_paths(context)] == calls


def test_a_manual_run_without_a_date_works_on_its_logical_day(services) -> None:
    from datetime import UTC, datetime

    sensor = HdfsPartitionSensor(task_id="s", table="smartcar_drive_info", wrk_date="")
    (path,) = sensor.partition_paths({"logical_date": datetime(2020, 3, 25, 7, tzinfo=UTC)})
    assert path.endswith("wrk_date=20200325")


def test_the_wait_for_marts_is_done_once_every_mart_of_the_day_was_exported_after_the_load(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from smartcar_plugins.operators import MartsExportedSensor

    import export.log
    from marts.catalog import MARTS

    asked = []
    exported: dict[str, int] = {}

    @contextlib.contextmanager
    def fake_pg():
        yield "conn"

    def fake_since(conn, partitions, since):
        asked.append((partitions, since.isoformat()))
        return dict(exported)

    monkeypatch.setattr(connections, "postgres_connection", fake_pg)
    monkeypatch.setattr(export.log, "exported_since", fake_since)
    sensor = MartsExportedSensor(task_id="w", biz_date="20200322", since="2026-12-04T10:00:00+00:00")
    assert sensor.poke({}).is_done is False
    partitions, since = asked[0]
    assert since == "2026-12-04T10:00:00+00:00"
    assert partitions["managed_smartcar_status_info"] == "biz_date=20200322"
    assert partitions["managed_smartcar_item_buylist_info"] == "biz_month=202003"
    exported.update({m.name: 3 for m in MARTS[:-1]})
    assert sensor.poke({}).is_done is False
    exported[MARTS[-1].name] = 4
    done = sensor.poke({})
    assert done.is_done is True and done.xcom_value == exported
