"""Simulator: fleet and reference data, status log, driving events, determinism and the CLI."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ingest.records import (
    CAR_NUMBER_PATTERN,
    SHARP_STEER_CODES,
    STATUS_FIELDS,
    parse_drive_line,
    parse_status_line,
)
from ingest.simulator import (
    SimulatorConfig,
    generate_drive_day,
    generate_status_day,
    iter_drive_events,
    make_buy_list,
    make_car_master,
    make_fleet,
    simulate_day,
)
from ingest.simulator.cli import main, register
from ingest.simulator.drive_plan import AREAS, congested_areas, next_speed, plan_drive
from ingest.simulator.driving import drive_file_name, write_drive_day
from ingest.simulator.fleet import MAX_CARS, write_car_master
from ingest.simulator.status import plan_failures, status_file_name, write_status_day
from ingest.simulator.truth import compute_ground_truth
from pilot.rules import Thresholds
from pilot.settings import Settings

DATE = "20200322"
SEED = 7
STICKY = SimulatorConfig(
    tire_failure_rate=0.4, light_failure_rate=0.3, engine_failure_rate=0.5, brake_failure_rate=0.5,
    battery_failure_rate=0.5, wild_share=0.25, calm_share=0.25, congested_share=0.3,
)
SHORT = SimulatorConfig(day_seconds=1200)


@pytest.fixture(scope="module")
def fleet() -> list[str]:
    return make_fleet(8, SEED)


@pytest.fixture(scope="module")
def status_day(fleet: list[str], tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Path]:
    out = tmp_path_factory.mktemp("status")
    write_status_day(out, fleet, DATE, SEED, STICKY)
    return generate_status_day(fleet, DATE, SEED, STICKY), out / status_file_name(DATE)


@pytest.fixture(scope="module")
def drive_day(fleet: list[str], tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Path]:
    out = tmp_path_factory.mktemp("drive")
    write_drive_day(out, fleet, DATE, SEED, STICKY)
    return generate_drive_day(fleet, DATE, SEED, STICKY), out / drive_file_name(DATE)


def per_car(frame: pd.DataFrame, column: str, fleet: list[str]) -> np.ndarray:
    """A (times, cars) matrix of a column; rows are ordered by time then car."""
    return frame[column].to_numpy().reshape(-1, len(fleet))


# fleet and reference data

def test_fleet_numbers() -> None:
    fleet = make_fleet(100, 42)
    assert len(set(fleet)) == 100 and fleet == sorted(fleet)
    assert all(re.fullmatch(CAR_NUMBER_PATTERN, car) for car in fleet)
    assert len({car[0] for car in fleet}) > 10
    assert set(make_fleet(40, 42)) <= set(fleet)
    assert make_fleet(100, 43) != fleet
    assert len(make_fleet(MAX_CARS, 1)) == MAX_CARS
    for bad in (0, MAX_CARS + 1):
        with pytest.raises(ValueError, match="cars must be"):
            make_fleet(bad, 42)


def test_master_is_the_fleet_with_some_minors(tmp_path: Path) -> None:
    fleet = make_fleet(100, 42)
    write_car_master(tmp_path / "CarMaster.txt", fleet, 42)
    master = pd.read_csv(tmp_path / "CarMaster.txt", sep="|", header=None, dtype=str)
    assert list(master[0]) == fleet
    ages = master[2].astype(int)
    assert ages.between(15, 70).all()
    assert 1 <= (ages < 18).sum() <= 10
    assert set(master[1]) <= {"남", "여"} and set(master[3]) <= {"기혼", "미혼"}
    assert master[6].astype(int).isin([1000, 1200, 1500, 1700, 2000, 2500, 3000, 3500]).all()
    assert master[7].astype(int).between(2000, 2016).all() and set(master[8]) <= set("ABCDEFGH")
    small = make_car_master(make_fleet(40, 42), 42).set_index("car_number")
    full = make_car_master(fleet, 42).set_index("car_number").loc[small.index]
    assert small[["sex", "region", "car_year"]].equals(full[["sex", "region", "car_year"]])


def test_buy_list_domains() -> None:
    fleet = make_fleet(50, 42)
    buys = make_buy_list(fleet, "202003", 42)
    assert len(buys) == round(100_000 * 50 / 2600)
    assert set(buys.car_number) <= set(fleet)
    assert buys.item.str.fullmatch(r"Item-0(0[1-9]|[12][0-9]|30)").all()
    assert buys.score.between(1, 5).all() and (buys.month == "202003").all()
    with pytest.raises(ValueError):
        make_buy_list(fleet, "202013", 42)


# status log

def test_status_lines_per_car_and_order(status_day: tuple[pd.DataFrame, Path], fleet: list[str]) -> None:
    frame, path = status_day
    lines = path.read_text().splitlines()
    assert len(lines) == len(frame) == 21_600 * len(fleet)
    assert (frame.groupby("car_number", observed=True).size() == 21_600).all()
    assert lines[0].startswith(f"{DATE}000000,{fleet[0]},")
    assert lines[-1].startswith(f"{DATE}235956,{fleet[-1]},")
    stamps = [line[:14] for line in lines[:: len(fleet)]]
    assert stamps == sorted(stamps) and len(set(stamps)) == 21_600
    assert [line[15:20] for line in lines[: len(fleet)]] == fleet


def test_status_lines_all_parse(status_day: tuple[pd.DataFrame, Path], fleet: list[str]) -> None:
    known = frozenset(fleet)
    with status_day[1].open("rb") as handle:
        for raw in handle:
            assert parse_status_line(raw, known) == tuple(raw.decode().rstrip("\n").split(","))


def test_status_domains(status_day: tuple[pd.DataFrame, Path], fleet: list[str]) -> None:
    frame = status_day[0]
    assert list(frame.columns) == list(STATUS_FIELDS)
    for name in ("tire_fl", "tire_fr", "tire_bl", "tire_br", "battery"):
        assert frame[name].between(0, 100).all()
    for name in ("light_fl", "light_fr", "light_bl", "light_br"):
        assert set(frame[name].unique()) <= {"1", "2"}
    assert set(frame.engine.unique()) == {"A", "B", "C"}
    plan = plan_failures(fleet, DATE, SEED, STICKY)
    before_failure = np.arange(plan.steps)[:, None] < plan.tires[:, 0]
    healthy = per_car(frame, "tire_fl", fleet)[before_failure]
    assert 0.92 < (healthy >= 80).mean() < 0.96
    assert 0.003 < (healthy < 70).mean() < 0.02


def test_status_failures_are_sticky(status_day: tuple[pd.DataFrame, Path], fleet: list[str]) -> None:
    frame = status_day[0]
    plan = plan_failures(fleet, DATE, SEED, STICKY)
    step = np.arange(plan.steps)[:, None]
    for index, name in enumerate(("tire_fl", "tire_fr", "tire_bl", "tire_br")):
        values = per_car(frame, name, fleet)
        failed = step >= plan.tires[:, index]
        assert (values[failed] < 80).all()
        assert failed.any() and not failed.all()
    battery = per_car(frame, "battery", fleet)
    assert (battery[step >= plan.battery] < 30).all()
    for name in ("light_fl", "light_fr", "light_bl", "light_br", "engine", "break"):
        bad = "2" if name.startswith("light") else "C"
        broken = per_car(frame, name, fleet) == bad
        after_first = np.maximum.accumulate(broken, axis=0)
        assert (broken == after_first).all(), f"{name} recovered after a failure"
    engine = per_car(frame, "engine", fleet)
    assert ((engine == "C") == (step >= plan.engine)).all()


def test_default_rates_fail_a_few_devices() -> None:
    fleet = make_fleet(100, 42)
    plan = plan_failures(fleet, DATE, 42, SimulatorConfig())
    never = plan.steps
    for onsets in (plan.tires, plan.lights, plan.engine, plan.brake, plan.battery):
        failing_cars = (np.reshape(onsets, (len(fleet), -1)) < never).any(axis=1).sum()
        assert 1 <= failing_cars <= 40


# driving events

def test_drive_events_per_car_and_parse(drive_day: tuple[pd.DataFrame, Path], fleet: list[str]) -> None:
    frame, path = drive_day
    assert (frame.groupby("car_number", observed=True).size() == 43_200).all()
    known = frozenset(fleet)
    count = 0
    with path.open("rb") as handle:
        for raw in handle:
            parse_drive_line(raw, known)
            count += 1
    assert count == 43_200 * len(fleet)


def test_speed_is_running_total_of_pedals(drive_day: tuple[pd.DataFrame, Path], fleet: list[str]) -> None:
    frame = drive_day[0]
    speed = per_car(frame, "speed", fleet).astype(int)
    accel, brake = per_car(frame, "speed_pedal", fleet), per_car(frame, "break_pedal", fleet)
    before = np.vstack([np.zeros((1, len(fleet)), int), speed[:-1]])
    assert (next_speed(before, accel, brake) == speed).all()
    assert ((brake == 0) | (accel == 0)).all()
    assert speed.max() <= 250 and (speed > 0).mean() > 0.6


def test_areas_keep_letter_and_move(drive_day: tuple[pd.DataFrame, Path], fleet: list[str]) -> None:
    area = per_car(drive_day[0], "area_number", fleet).astype(str)
    for car in range(len(fleet)):
        assert len({code[0] for code in area[:, car]}) == 1
        assert len(set(area[:, car])) > 1


def test_congestion_lowers_speed(drive_day: tuple[pd.DataFrame, Path]) -> None:
    frame = drive_day[0]
    congested = {area for area, hit in zip(AREAS, congested_areas(SEED, DATE, STICKY), strict=True) if hit}
    assert len(congested) == 18
    in_jam = frame.area_number.astype(str).isin(congested)
    assert in_jam.any() and (~in_jam).any()
    assert frame.speed[in_jam].mean() < 0.6 * frame.speed[~in_jam].mean()
    assert frame.speed[in_jam].quantile(0.95) <= 38


def test_wild_and_calm_drivers_differ(drive_day: tuple[pd.DataFrame, Path], fleet: list[str]) -> None:
    frame = drive_day[0]
    profiles = plan_drive(fleet, DATE, SEED, STICKY).profiles
    assert profiles.wild.sum() == 2 and profiles.calm.sum() == 2
    steer = frame.steer_angle.astype(str)
    side = steer.str[0].map({"F": "N", "L": "L", "R": "R"})
    stats = pd.DataFrame({
        "car": frame.car_number.astype(str),
        "sharp": steer.isin(SHARP_STEER_CODES),
        "disagree": side != frame.direct_light.astype(str),
        "accel": frame.speed_pedal,
        "brake": frame.break_pedal,
    }).groupby("car").mean().loc[fleet]
    wild, calm = profiles.wild, profiles.calm
    normal = ~wild & ~calm
    assert stats.sharp[wild].min() > 0.2 > 0.1 > stats.sharp[normal].max()
    assert (stats.sharp[calm] == 0).all()
    assert stats.disagree[wild].min() > 0.4 > 0.15 > stats.disagree[~wild].max()
    assert stats.accel[wild].min() > stats.accel[~wild].max()
    assert stats.brake[wild].min() > stats.brake[~wild].max()


def test_live_events_match_the_file(fleet: list[str], tmp_path: Path) -> None:
    write_drive_day(tmp_path, fleet, DATE, SEED, SHORT)
    lines = (tmp_path / drive_file_name(DATE)).read_text().splitlines()
    assert list(iter_drive_events(fleet, DATE, SEED, SHORT)) == lines
    assert len(lines) == 600 * len(fleet)
    assert all(line[15:20] == line.split(",")[1] for line in lines[:50])


# whole days

def read_outputs(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    first = read_outputs(Path(simulate_day(tmp_path / "a", DATE, 5, 11, SHORT)["out_dir"]))
    again = read_outputs(Path(simulate_day(tmp_path / "b", DATE, 5, 11, SHORT)["out_dir"]))
    other = read_outputs(Path(simulate_day(tmp_path / "c", DATE, 5, 12, SHORT)["out_dir"]))
    assert sorted(first) == [
        "CarItemBuyList_202003.txt", "CarMaster.txt", f"SmartCarDrivingInfo_{DATE}.txt",
        f"SmartCarStatusInfo_{DATE}.txt", f"ground_truth_{DATE}.json",
    ]
    assert first == again
    for name in first:
        assert first[name] != other[name], name


def test_days_differ_but_fleet_and_drivers_stay(fleet: list[str]) -> None:
    config = SimulatorConfig(day_seconds=600)
    first = generate_drive_day(fleet, DATE, SEED, config)
    second = generate_drive_day(fleet, "20200323", SEED, config)
    assert not first.speed.equals(second.speed)
    assert (first.r_date.astype(str).str[:8] == DATE).all()
    assert (plan_drive(fleet, DATE, SEED, STICKY).profiles.wild
            == plan_drive(fleet, "20200323", SEED, STICKY).profiles.wild).all()
    assert not generate_status_day(fleet, DATE, SEED, config).equals(
        generate_status_day(fleet, "20200323", SEED, config))
    with pytest.raises(ValueError, match="seed"):
        make_fleet(3, -1)


def test_only_some_outputs(tmp_path: Path) -> None:
    summary = simulate_day(tmp_path, DATE, 3, 1, SHORT, only=["status", "master"])
    assert {item["kind"] for item in summary["files"]} == {"status", "master"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["CarMaster.txt", f"SmartCarStatusInfo_{DATE}.txt"]
    with pytest.raises(ValueError, match="real calendar date"):
        simulate_day(tmp_path, "20200230", 3, 1, SHORT)


def test_default_hundred_car_day_feeds_every_mart() -> None:
    fleet = make_fleet(100, 42)
    truth = compute_ground_truth(
        generate_status_day(fleet, DATE, 42), generate_drive_day(fleet, DATE, 42),
        make_car_master(fleet, 42), DATE, Thresholds.from_settings(Settings()),
    )
    totals = truth["totals"]
    assert 80 <= totals["adult_cars"] < 100
    assert all(2 <= count <= 15 for count in totals["checks_adult"].values()), totals["checks_adult"]
    assert 5 <= totals["overspeed_cars"] <= 60
    assert totals["overspeed_windows"] < 0.1 * 100 * 2880
    assert totals["zero_sharp_turn_cars_adult"] >= 1
    assert all(count >= 1 for count in totals["symptom_abnormal"].values()), totals["symptom_abnormal"]
    assert totals["symptom_abnormal_cars_adult"] <= 20


# command line

def test_cli_writes_the_day(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main([
        "simulate", "--date", DATE, "--cars", "4", "--seed", "3", "--out", str(tmp_path),
        "--day-seconds", "600", "--wild-share", "0.5",
    ])
    assert code == 0
    printed = capsys.readouterr().out
    assert "SmartCarStatusInfo_20200322.txt" in printed and "rows" in printed
    assert len((tmp_path / status_file_name(DATE)).read_text().splitlines()) == 150 * 4


@pytest.mark.parametrize(
    ("argument", "value"),
    [("--date", "20200230"), ("--date", "2020-03-22"), ("--cars", "0"), ("--cars", "2601")],
)
def test_cli_rejects_bad_arguments(
    argument: str, value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    arguments = {"--date": DATE, "--cars": "3"} | {argument: value}
    with pytest.raises(SystemExit) as exited:
        main(["simulate", *[item for pair in arguments.items() for item in pair], "--out", str(tmp_path)])
    assert exited.value.code == 2
    assert value in capsys.readouterr().err


def test_cli_takes_the_overspeed_rule_from_the_settings_unless_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dataclasses
    import json

    import ingest.simulator.cli as cli

    configured = dataclasses.replace(Settings(), overspeed_window_seconds=60, overspeed_speed_kmh=90.0)
    monkeypatch.setattr(cli, "get_settings", lambda: configured)
    base = ["simulate", "--date", DATE, "--cars", "3", "--day-seconds", "600", "--quiet", "--only", "truth"]
    assert main([*base, "--out", str(tmp_path / "settings")]) == 0
    assert main([*base, "--out", str(tmp_path / "flag"), "--speed-threshold", "95"]) == 0
    truth = f"ground_truth_{DATE}.json"
    params = json.loads((tmp_path / "settings" / truth).read_text())["params"]
    assert (params["window_seconds"], params["speed_threshold"]) == (60, 90)
    params = json.loads((tmp_path / "flag" / truth).read_text())["params"]
    assert (params["window_seconds"], params["speed_threshold"]) == (60, 95)


def test_cli_rejects_bad_knob(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["simulate", "--date", DATE, "--out", str(tmp_path), "--wild-share", "1.5", "--quiet"])
    assert code == 2
    assert "wild_share" in capsys.readouterr().err


def test_register_mounts_simulate() -> None:
    parser = argparse.ArgumentParser(prog="pilot")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["simulate", "--date", DATE])
    assert (args.cars, args.seed, args.out, args.quiet) == (100, 42, "var/sim", False)
    assert callable(args.func)
