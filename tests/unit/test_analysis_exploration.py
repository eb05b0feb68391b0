"""The exploration tables' catalog, parameters and SQL (no services)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pandas as pd
import pytest

from analysis.exploration import EXPLORATIONS, exploration_params, select_tables
from marts import sqlfile
from marts.config import MartConfig
from marts.runner import audit_params
from pilot.errors import InvalidInput
from pilot.settings import Settings
from tests.oracles import exploration as oracle

CONFIG = MartConfig.from_settings(database="pilot_test")


def test_tables_by_name_or_alias_in_catalog_order() -> None:
    assert [t.name for t in select_tables(None)] == [t.name for t in EXPLORATIONS]
    assert [t.alias for t in select_tables(["overspeed", "analysis_fastest_car_per_area"])] == [
        "fastest", "overspeed"]
    with pytest.raises(InvalidInput, match="unknown exploration table 'fastest_car'"):
        select_tables(["fastest_car"])


def test_parameters_are_validated_and_come_from_the_settings() -> None:
    s = dataclasses.replace(Settings(), overspeed_window_seconds=45, overspeed_speed_kmh=90)
    params = exploration_params(CONFIG, "20200322", s, 55)
    assert (params["min_speed"].render(), params["window_seconds"].render(),
            params["overspeed_threshold"].render()) == ("55.0", "45.0", "90.0")
    with pytest.raises(InvalidInput, match="min speed"):
        exploration_params(CONFIG, "20200322", s, -1)
    with pytest.raises(InvalidInput, match="must be a number"):
        exploration_params(CONFIG, "20200322", s, "60; DROP TABLE x")  # type: ignore[arg-type]


def test_each_table_is_created_and_one_partition_overwritten_from_its_mart() -> None:
    params = exploration_params(CONFIG, "20200322", Settings())
    for table in EXPLORATIONS:
        create, insert = sqlfile.statements(table.build_file, audit_params(table, params, "b1"))
        assert create.startswith(f"CREATE TABLE IF NOT EXISTS pilot_test.{table.name}")
        assert insert.startswith(f"INSERT OVERWRITE TABLE pilot_test.{table.name}__audit "
                                 "PARTITION (biz_date = '20200322')")
        assert f"FROM pilot_test.{table.upstream[0]}" in insert
        assert sqlfile.checks(table.checks_file, audit_params(table, params, "b1"))


def test_oracle_ranks_averages_not_maxima_and_bands_ages() -> None:
    drive = pd.DataFrame({
        "area_number": ["A01"] * 5, "car_number": ["A0001", "A0001", "A0002", "A0002", "A0003"],
        "speed": [100, 0, 60, 60, 60],  # A0001 has the maximum, A0002 and A0003 the best average
    })
    assert set(oracle.fastest_car_per_area(drive)) == {("A01", "A0002"), ("A01", "A0003")}
    assert [oracle.age_band(a) for a in (18, 29, 30, 59, 60, 70)] == [
        "18-29", "18-29", "30-39", "50-59", "60+", "60+"]


def test_health_points_follow_the_rule_at_its_edges() -> None:
    base = {"tire_fl": 90, "tire_fr": 90, "tire_bl": 90, "tire_br": 90, "light_fl": "1", "light_fr": "1",
            "light_bl": "1", "light_br": "1", "engine": "A", "break": "A", "battery": 90,
            "car_capacity": 2000, "car_year": 2010, "car_model": "A"}
    assert oracle.health_points(base) == Decimal("6.8")
    worst_profile = {**base, "car_capacity": 1000, "car_year": 2004, "car_model": "B"}
    assert oracle.health_points(worst_profile) == Decimal("6.1")  # still normal
    one_fault = {**worst_profile, "light_fl": "2"}
    assert oracle.health_points(one_fault) == Decimal("5.6")  # abnormal
    exactly_six = {**base, "battery": 50, "car_capacity": 1000, "car_year": 2004}  # 6.8 - 0.4 - 0.2 - 0.2
    assert oracle.health_points(exactly_six) == Decimal("6.0")  # normal: abnormal is below 6
