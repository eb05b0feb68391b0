"""Export requests: validation before any connection, column matching and mode choice."""

from __future__ import annotations

import pytest

from export.plan import ExportRequest, default_target, plan_columns, validate
from export.target import InvalidTarget, Target, TargetColumn, TargetName, column_list, ddl
from marts.catalog import MARTS, get_mart
from pilot.errors import InvalidInput


def request(**kw: object) -> ExportRequest:
    return ExportRequest(**{"mart": "symptom", "biz_date": "20200322", **kw})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "target", ["public.x; DROP TABLE y", 'public."X"', "a.b.c", "Public.x", "x-y", "a."]
)
def test_hostile_targets(target: str) -> None:
    with pytest.raises(InvalidTarget):
        validate(request(target=target), "default")


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("biz_date", "20200322'; DROP TABLE x; --", InvalidInput),
        ("biz_date", "20201301", InvalidInput),
        ("columns", "car_number, x); DROP TABLE y; --", InvalidTarget),
        ("columns", "car_number,car_number", InvalidTarget),
        ("update_key", "car_number;", InvalidTarget),
        ("splits", 0, InvalidInput),
        ("splits", 33, InvalidInput),
        ("mart", "symptom; DROP", InvalidInput),
        ("export_dir", "/tmp/x'; --", InvalidInput),
        ("database", "db; DROP", InvalidTarget),
    ],
)
def test_hostile_values(field: str, value: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        validate(request(**{field: value}), "default")


def test_defaults() -> None:
    valid = validate(request(target=None), "default")
    assert str(valid.target) == "public.smartcar_symptom_info"
    assert default_target(get_mart("status")) == "public.smartcar_status_info"
    monthly = validate(request(mart="buylist", biz_date="20200322"), "default")
    assert monthly.partition_value == "202003"
    assert validate(request(mart="buylist", biz_date="202003"), "default").partition_value == "202003"
    assert column_list(" a , b ") == ["a", "b"]
    assert TargetName.parse("x") == TargetName("public", "x")


def target(partitioned: bool = True, keys: list[tuple[str, ...]] | None = None) -> Target:
    columns = {
        "car_number": TargetColumn("car_number", "character varying(5)", True, False),
        "drive_events": TargetColumn("drive_events", "integer", False, False),
        "biz_date": TargetColumn("biz_date", "date", True, False),
    }
    return Target(
        TargetName("s", "t"),
        1,
        columns,
        "biz_date" if partitioned else None,
        keys if keys is not None else [("biz_date", "car_number")],
        [],
        [],
    )


def test_plan_columns_and_modes() -> None:
    valid = validate(request(columns="car_number,drive_events"), "default")
    plan = plan_columns(valid, ["car_number", "drive_events", "avg_speed_pedal"], target(), "20200322")
    assert plan.mode == "swap" and plan.selection == [0, 1] and plan.partition_literal == "2020-03-22"
    assert plan_columns(valid, ["car_number", "drive_events"], target(False), "20200322").mode == "replace"
    upsert = validate(request(columns="car_number,drive_events", update_key="car_number,biz_date"), "default")
    assert plan_columns(upsert, ["car_number", "drive_events"], target(), "20200322").mode == "upsert"


def test_plan_columns_refuses_mismatches() -> None:
    valid = validate(request(), "default")
    with pytest.raises(InvalidTarget, match="has no column avg_speed_pedal"):
        plan_columns(valid, ["car_number", "avg_speed_pedal"], target(), "20200322")
    subset = validate(request(columns="drive_events"), "default")
    with pytest.raises(InvalidTarget, match="requires NOT NULL column"):
        plan_columns(subset, ["car_number", "drive_events"], target(), "20200322")
    keyless = validate(request(columns="car_number,drive_events", update_key="car_number"), "default")
    with pytest.raises(InvalidTarget, match="primary key or unique index"):
        plan_columns(keyless, ["car_number", "drive_events"], target(), "20200322")
    unknown = validate(request(columns="nope"), "default")
    with pytest.raises(InvalidTarget, match="not among the columns"):
        plan_columns(unknown, ["car_number"], target(), "20200322")


def test_ddl_files_exist_for_every_mart_and_quote_the_target() -> None:
    for mart in MARTS:
        statement = ddl(mart, TargetName("analytics", "t"))
        assert "{table}" not in repr(statement)
        assert mart.partition_column in repr(statement)
