"""Parameter validation for the Hive SQL files: nothing unchecked reaches SQL."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marts.catalog import MART_NAMES, get_mart, select_marts
from marts.config import MartConfig, late_days
from pilot.dates import Day
from pilot.errors import InvalidInput
from pilot.sql_values import (
    SqlDate,
    SqlIdentifier,
    SqlLocation,
    SqlMonth,
    SqlNumber,
    threshold,
)

HOSTILE = [
    "20200322'; DROP TABLE x; --",
    "2020032",
    "202003221",
    "20200230",
    "2020-03-22",
    "２０２００３２２",
    " 20200322",
    "20200322\n",
    "",
    "abcdefgh",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_bad_dates_are_rejected(text: str) -> None:
    with pytest.raises(InvalidInput):
        SqlDate(text)


def test_a_real_date_renders_as_its_digits() -> None:
    assert SqlDate("20200229").render() == "20200229"
    assert SqlDate.of(Day.parse("20200322")).render() == "20200322"


@pytest.mark.parametrize("text", ["202013", "202000", "2020031", "2020-3", "202003'--"])
def test_bad_months_are_rejected(text: str) -> None:
    with pytest.raises(InvalidInput):
        SqlMonth(text)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "2 OR 1=1", "0.3; DROP", True, None])
def test_bad_thresholds_are_rejected(value: object) -> None:
    with pytest.raises(InvalidInput):
        threshold("z", value)


def test_thresholds_render_as_plain_numbers() -> None:
    assert threshold("z", "2").render() == "2.0"
    assert threshold("share", 0.3, 0, 1).render() == "0.3"
    assert SqlNumber(1e-7).render() == "0.0000001"
    with pytest.raises(InvalidInput):
        threshold("share", 1.5, 0, 1)


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9))
def test_every_finite_threshold_renders_as_a_plain_decimal(value: float) -> None:
    text = SqlNumber(value).render()
    assert set(text) <= set("-0123456789.")
    assert abs(float(text) - value) <= 1e-9 * max(1.0, abs(value))


@pytest.mark.parametrize("name", ["default", "pilot_it_1", "_x"])
def test_identifiers_on_the_allow_list(name: str) -> None:
    assert SqlIdentifier(name).render() == name


@pytest.mark.parametrize("name", ["Default", "a-b", "a b", "x;drop", "1abc", "", "a`b", "tbl.x"])
def test_identifiers_off_the_allow_list(name: str) -> None:
    with pytest.raises(InvalidInput):
        SqlIdentifier(name)


@pytest.mark.parametrize("path", ["/pilot-pjt/collect", "hdfs://127.0.0.1:8020/a/wrk_date=20200322"])
def test_locations(path: str) -> None:
    assert SqlLocation(path).render() == path


@pytest.mark.parametrize("path", ["relative/x", "/a/../b", "/a'b", "/a b", "hdfs://h:1/x'--", "s3://x/y"])
def test_bad_locations(path: str) -> None:
    with pytest.raises(InvalidInput):
        SqlLocation(path)


def test_late_days() -> None:
    assert late_days(0) == 0 and late_days(3) == 3
    for bad in (-1, 32, 1.5, "1", True):
        with pytest.raises(InvalidInput):
            late_days(bad)


def test_mart_names_and_aliases() -> None:
    assert get_mart("symptom").name == "managed_smartcar_symptom_info"
    assert get_mart("managed_smartcar_drive_info").alias == "drive"
    assert [m.name for m in select_marts(["symptom", "status"])] == [MART_NAMES[0], MART_NAMES[2]]
    assert len(select_marts(None)) == 5
    for bad in ("managed_smartcar_status_info; DROP TABLE x", "Status", ""):
        with pytest.raises(InvalidInput):
            get_mart(bad)


def test_config_params_for_a_date() -> None:
    config = MartConfig.from_settings(database="pilot_x", late_days=2)
    params = config.params("20201231")
    assert params["biz_date"].render() == "20201231"
    assert params["last_wrk_date"].render() == "20210102"
    assert params["biz_month"].render() == "202012"
    assert params["db"].render() == "pilot_x"
    assert params["status_location"].render().endswith("/pilot-pjt/collect/car-batch-log")
    assert config.collection_dates("20201231") == ["20201231", "20210101", "20210102"]
    with pytest.raises(InvalidInput):
        MartConfig.from_settings(database="x; drop").params("20200322")
