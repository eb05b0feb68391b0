"""The analysis tables built with Hive SQL, on the real endpoint, against pandas on the same day's
files (exploration, the status-health label) and the simulator's ground truth (overspeed windows)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hdfs import InsecureClient

from analysis.exploration import build_explorations
from marts import runner
from marts.hive import HiveSession
from pilot.settings import REPO_ROOT, Settings
from tests.oracles import exploration as oracle
from tests.oracles import marts as marts_oracle
from tests.support.devdata import PreparedDay, Realism, drop_prepared, prepare_day

DATE = "20200408"  # unique to this module
TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory, client: InsecureClient, hive: HiveSession
        ) -> Iterator[PreparedDay]:
    tag = uuid.uuid4().hex[:8]
    prepared = prepare_day(tmp_path_factory.mktemp("explore"), DATE, f"/tmp/pilot-it/explore-{tag}",
                           f"pilot_it_explore_{tag}", client, cars=30, day_seconds=7200,
                           realism=Realism(late_share=0.1, duplicate_share=0.05, seed=5))
    runner.build_marts(DATE, ["status", "drive"], config=prepared.config, log=lambda _: None, hive=hive,
                       hdfs_client=client)
    yield prepared
    drop_prepared(hive, client, prepared)


@pytest.fixture(scope="module")
def built(day: PreparedDay, hive: HiveSession, client: InsecureClient, stack: Settings) -> dict[str, Any]:
    results = build_explorations(DATE, config=day.config, settings=stack, log=lambda _: None, hive=hive,
                                 hdfs_client=client, min_speed=40)
    drive = marts_oracle.drive_mart(day.layout_dir, DATE)
    status = marts_oracle.status_mart(day.layout_dir, DATE)
    return {"results": {r.mart: r for r in results}, "drive": drive, "status": status}


def rows(hive: HiveSession, day: PreparedDay, table: str) -> list[tuple[Any, ...]]:
    return hive.query(f"SELECT * FROM {day.config.database}.{table} WHERE biz_date = '{DATE}'").rows


def test_the_fastest_car_of_each_area_by_average_speed(built: dict, hive: HiveSession,
                                                        day: PreparedDay) -> None:
    expected = oracle.fastest_car_per_area(built["drive"])
    got = {(area, car): (float(avg), int(events))
           for area, car, avg, events, _ in rows(hive, day, "analysis_fastest_car_per_area")}
    assert set(got) == set(expected)
    for key, (avg, events) in expected.items():
        assert abs(got[key][0] - avg) < TOLERANCE and got[key][1] == events, key
    assert built["results"]["analysis_fastest_car_per_area"].rows == len(expected)


def test_area_average_speed_above_the_minimum(built: dict, hive: HiveSession, day: PreparedDay) -> None:
    expected = oracle.area_avg_speed(built["drive"], 40)
    assert expected, "no area averages 40 km/h: the test would prove nothing"
    assert len(expected) < built["drive"]["area_number"].nunique(), "every area kept: the filter is untested"
    got = {area: (float(avg), int(events), int(cars), float(minimum))
           for area, avg, events, cars, minimum, _ in rows(hive, day, "analysis_area_avg_speed")}
    assert set(got) == set(expected)
    for area, (avg, events, cars) in expected.items():
        assert abs(got[area][0] - avg) < TOLERANCE and got[area][1:] == (events, cars, 40.0), area


def test_overspeed_windows_per_region_and_age_band(built: dict, hive: HiveSession, day: PreparedDay,
                                                  stack: Settings) -> None:
    expected = oracle.overspeed_by_region_age(built["drive"], stack.overspeed_window_seconds,
                                              stack.overspeed_speed_kmh)
    got = {(region, band): (int(windows), int(cars))
           for region, band, windows, cars, _ in rows(hive, day, "analysis_overspeed_by_region_age")}
    assert got == expected and got, "the table equals pandas on the same files (and is not empty)"
    # and the ground truth: the simulator's own overspeed windows of the adult cars
    master = marts_oracle.master(day.layout_dir).set_index("car_number")
    truth: Counter[tuple[str, str]] = Counter()
    for car, facts in day.truth["cars"].items():
        if facts["adult"]:
            truth[(master.at[car, "region"], oracle.age_band(int(master.at[car, "age"])))] += len(
                facts["overspeed_windows"])
    assert {key: windows for key, (windows, _) in got.items()} == {k: n for k, n in truth.items() if n}


def test_the_status_health_label_agrees_with_the_rule(built: dict, hive: HiveSession,
                                                      day: PreparedDay) -> None:
    expected = oracle.status_health(built["status"])
    result = hive.query(f"SELECT car_number, reg_date, health_points, label "
                        f"FROM {day.config.database}.analysis_status_health WHERE biz_date = '{DATE}'")
    got = {(car, reg): (Decimal(str(points)), label) for car, reg, points, label in result.rows}
    assert got == expected
    labels = Counter(label for _, label in got.values())
    assert labels["normal"] > 0 and labels["abnormal"] > 0, labels  # both classes, or it proves little


def test_a_rebuild_gives_the_same_tables(built: dict, hive: HiveSession, day: PreparedDay,
                                         client: InsecureClient, stack: Settings) -> None:
    tables = ("analysis_fastest_car_per_area", "analysis_area_avg_speed", "analysis_overspeed_by_region_age",
              "analysis_status_health")
    before = {t: sorted(rows(hive, day, t)) for t in tables}
    build_explorations(DATE, config=day.config, settings=stack, log=lambda _: None, hive=hive,
                       hdfs_client=client, min_speed=40)
    assert {t: sorted(rows(hive, day, t)) for t in tables} == before


def test_cli_prints_the_bound_sql_and_rejects_a_bad_date() -> None:
    cli = [sys.executable, "-m", "orchestration.cli", "analysis", "sql"]
    ok = subprocess.run([*cli, "--date", DATE, "--table", "fastest"], capture_output=True, text=True,
                        cwd=REPO_ROOT, timeout=60)
    assert ok.returncode == 0 and f"PARTITION (biz_date = '{DATE}')" in ok.stdout
    bad = subprocess.run([*cli, "--date", "20201345"], capture_output=True, text=True, cwd=REPO_ROOT,
                         timeout=60)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
