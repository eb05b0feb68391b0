"""The exporter's Hive statements come from sql/hive/ops/ through the binder, values validated."""

from __future__ import annotations

from typing import Any

import pytest

from export import hiveql
from export.runner import ExportFailed, latest_partition
from export.source import MissingSource, describe_partition, describe_table
from marts.catalog import get_mart
from marts.hive import Result
from pilot.errors import InvalidInput, PilotError

STATUS, BUYLIST = get_mart("status"), get_mart("buylist")


class FakeHive:
    """Records the statements; answers with canned rows (or fails like a missing table)."""

    def __init__(self, rows: list[tuple[Any, ...]] | None = None) -> None:
        self.rows = rows
        self.statements: list[str] = []

    def query(self, statement: str) -> Result:
        self.statements.append(statement)
        if self.rows is None:
            raise PilotError("Table or view not found")
        return Result([], self.rows)


def test_statements_render_as_the_exporter_always_sent_them() -> None:
    assert hiveql.describe_table("pilot_test", STATUS) == "DESCRIBE pilot_test.managed_smartcar_status_info"
    assert hiveql.list_partitions("default", BUYLIST) == (
        "SHOW PARTITIONS default.managed_smartcar_item_buylist_info")
    assert hiveql.describe_partition("pilot_test", STATUS, hiveql.partition_value(STATUS, "20200322")) == (
        "DESCRIBE FORMATTED pilot_test.managed_smartcar_status_info PARTITION (biz_date = '20200322')")
    assert hiveql.describe_partition("default", BUYLIST, hiveql.partition_value(BUYLIST, "202003")) == (
        "DESCRIBE FORMATTED default.managed_smartcar_item_buylist_info PARTITION (biz_month = '202003')")


@pytest.mark.parametrize(
    ("mart", "value"),
    [(STATUS, "20200322' OR '1'='1"), (STATUS, "202003"), (STATUS, "20201301"), (BUYLIST, "20200322"),
     (BUYLIST, "202013")],
)
def test_partition_values_are_validated(mart: Any, value: str) -> None:
    with pytest.raises(InvalidInput):
        hiveql.partition_value(mart, value)
    hive = FakeHive([])
    with pytest.raises(MissingSource):
        describe_partition(hive, "default", mart, value)
    assert hive.statements == []


def test_hostile_database_never_reaches_hive() -> None:
    hive = FakeHive([])
    with pytest.raises(InvalidInput):
        describe_table(hive, "default; DROP TABLE x", STATUS)
    assert hive.statements == []


def test_source_reads_columns_and_location() -> None:
    rows = [("car_number", "string", ""), ("tire_fl", "int", ""), ("biz_date", "string", ""),
            ("# Partition Information", None, None), ("biz_date", "string", ""),
            ("Location", "hdfs://127.0.0.1:8020/user/hive/warehouse/t/biz_date=20200322", None)]
    hive = FakeHive(rows)
    columns, location = describe_partition(hive, "default", STATUS, "20200322")
    assert columns == ["car_number", "tire_fl"]
    assert location == "/user/hive/warehouse/t/biz_date=20200322"
    assert describe_table(hive, "default", STATUS) == ["car_number", "tire_fl"]
    assert hive.statements == [
        "DESCRIBE FORMATTED default.managed_smartcar_status_info PARTITION (biz_date = '20200322')",
        "DESCRIBE default.managed_smartcar_status_info",
    ]


def test_latest_partition() -> None:
    request = type("Request", (), {"mart": BUYLIST, "database": "default"})()
    hive = FakeHive([("biz_month=202002",), ("biz_month=202003",)])
    assert latest_partition(hive, request) == "202003"  # type: ignore[arg-type]
    assert hive.statements == ["SHOW PARTITIONS default.managed_smartcar_item_buylist_info"]
    with pytest.raises(ExportFailed, match="no partition"):
        latest_partition(FakeHive([]), request)  # type: ignore[arg-type]
    with pytest.raises(ExportFailed, match="does not exist"):
        latest_partition(FakeHive(None), request)  # type: ignore[arg-type]
