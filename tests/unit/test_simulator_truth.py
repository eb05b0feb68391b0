"""The ground-truth JSON equals an independent pandas computation over the written files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ingest.records import DRIVE_FIELDS, MASTER_FIELDS, STATUS_FIELDS
from ingest.simulator import SimulatorConfig, simulate_day
from pilot.settings import Settings, load_settings

DATE = "20200322"
CONFIG = SimulatorConfig(
    tire_failure_rate=0.15, light_failure_rate=0.08, engine_failure_rate=0.2, brake_failure_rate=0.2,
    battery_failure_rate=0.6, wild_share=0.2, calm_share=0.2, minor_share=0.3, overspeed_share=0.5,
)
CHECKS = ("Tire Check", "Light Check", "Engine Check", "Brake Check", "Battery Check")
TIRES = ["tire_fl", "tire_fr", "tire_bl", "tire_br"]
LIGHTS = ["light_fl", "light_fr", "light_bl", "light_br"]


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("truth")
    simulate_day(out, DATE, cars=10, seed=5, config=CONFIG, settings=Settings())
    read = {"header": None, "dtype": str, "keep_default_na": False}
    return {
        "truth": json.loads((out / f"ground_truth_{DATE}.json").read_text(encoding="utf-8")),
        "status": pd.read_csv(out / f"SmartCarStatusInfo_{DATE}.txt", names=list(STATUS_FIELDS), **read),
        "drive": pd.read_csv(out / f"SmartCarDrivingInfo_{DATE}.txt", names=list(DRIVE_FIELDS), **read),
        "master": pd.read_csv(out / "CarMaster.txt", sep="|", names=list(MASTER_FIELDS), **read),
    }


def expected_checks(status: pd.DataFrame, tire: float = 80, battery: float = 30) -> dict[str, list[str]]:
    numbers = status[[*TIRES, "battery"]].astype(int).assign(car_number=status.car_number)
    means = numbers.groupby("car_number").mean()
    flags = pd.DataFrame({
        "Tire Check": (means[TIRES] < tire).any(axis=1),
        "Light Check": (status[LIGHTS] == "2").any(axis=1).groupby(status.car_number).any(),
        "Engine Check": (status.engine == "C").groupby(status.car_number).any(),
        "Brake Check": (status["break"] == "C").groupby(status.car_number).any(),
        "Battery Check": means.battery < battery,
    })
    return {car: [label for label in CHECKS if row[label]] for car, row in flags.iterrows()}


def expected_windows(drive: pd.DataFrame, seconds: int = 30, speed: float = 80) -> dict[str, list[str]]:
    start = pd.to_datetime(drive.r_date, format="%Y%m%d%H%M%S").dt.floor(f"{seconds}s")
    means = drive.speed.astype(int).groupby([drive.car_number, start]).mean()
    fast = means[means > speed]
    windows: dict[str, list[str]] = {car: [] for car in drive.car_number.unique()}
    for (car, moment), _ in fast.items():
        windows[car].append(moment.strftime("%Y%m%d%H%M%S"))
    return windows


def test_every_car_is_in_the_truth(day: dict[str, Any]) -> None:
    assert sorted(day["truth"]["cars"]) == sorted(day["master"].car_number)
    assert day["truth"]["date"] == DATE and day["truth"]["seed"] == 5
    assert day["truth"]["params"]["window_seconds"] == 30 and day["truth"]["params"]["speed_threshold"] == 80


def test_record_counts_and_adults(day: dict[str, Any]) -> None:
    cars = day["truth"]["cars"]
    status_counts = day["status"].car_number.value_counts()
    drive_counts = day["drive"].car_number.value_counts()
    adult = day["master"].set_index("car_number").age.astype(int) >= 18
    assert not adult.all() and adult.any()
    for car, facts in cars.items():
        assert facts["status_records"] == status_counts[car] == 21_600
        assert facts["drive_records"] == drive_counts[car] == 43_200
        assert facts["adult"] == bool(adult[car])


def test_failed_checks(day: dict[str, Any]) -> None:
    expected = expected_checks(day["status"])
    assert {car: facts["failed_checks"] for car, facts in day["truth"]["cars"].items()} == expected
    assert sum(bool(labels) for labels in expected.values()) >= 3
    totals = day["truth"]["totals"]["checks"]
    assert totals == {label: sum(label in labels for labels in expected.values()) for label in CHECKS}


def test_pedals_and_sharp_turns(day: dict[str, Any]) -> None:
    drive = day["drive"]
    grouped = pd.DataFrame({
        "car": drive.car_number,
        "accel": drive.speed_pedal.astype(int),
        "brake": drive.break_pedal.astype(int),
        "sharp": drive.steer_angle.isin(["L2", "L3", "R2", "R3"]).astype(int),
    }).groupby("car").agg(accel=("accel", "mean"), brake=("brake", "mean"), sharp=("sharp", "sum"),
                          events=("sharp", "size"))
    for car, facts in day["truth"]["cars"].items():
        row = grouped.loc[car]
        assert facts["avg_speed_pedal"] == pytest.approx(row.accel, abs=1e-12)
        assert facts["avg_break_pedal"] == pytest.approx(row.brake, abs=1e-12)
        assert facts["sharp_turns"] == row.sharp
        assert facts["sharp_turn_share"] == pytest.approx(row.sharp / row.events, abs=1e-12)
    assert (grouped.sharp == 0).sum() == day["truth"]["totals"]["zero_sharp_turn_cars"] >= 1


def test_overspeed_windows(day: dict[str, Any]) -> None:
    expected = expected_windows(day["drive"])
    actual = {car: facts["overspeed_windows"] for car, facts in day["truth"]["cars"].items()}
    assert actual == expected
    assert 0 < sum(bool(windows) for windows in expected.values()) < len(expected)
    assert day["truth"]["totals"]["overspeed_windows"] == sum(len(w) for w in expected.values())


def test_symptoms_over_adult_cars(day: dict[str, Any]) -> None:
    master = day["master"].set_index("car_number")
    adults = sorted(car for car in master.index if int(master.age[car]) >= 18)
    drive = day["drive"][day["drive"].car_number.isin(adults)]
    averages = pd.DataFrame({
        "accel": drive.speed_pedal.astype(int), "brake": drive.break_pedal.astype(int),
    }).groupby(drive.car_number).mean()
    z = (averages - averages.mean()) / averages.std(ddof=0)
    cars = day["truth"]["cars"]
    for car, facts in cars.items():
        if car not in adults:
            assert facts["symptom"] is None
            continue
        symptom = facts["symptom"]
        assert symptom["speed_pedal_z"] == pytest.approx(z.accel[car], abs=1e-9)
        assert symptom["break_pedal_z"] == pytest.approx(z.brake[car], abs=1e-9)
        assert symptom["speed_pedal_symptom"] == ("abnormal" if abs(z.accel[car]) > 2 else "normal")
        assert symptom["break_pedal_symptom"] == ("abnormal" if abs(z.brake[car]) > 2 else "normal")
        sharp = facts["sharp_turns"] / facts["drive_records"]
        assert symptom["sharp_turn_symptom"] == ("abnormal" if sharp > 0.3 else "normal")
    assert np.isclose(z.accel.pow(2).mean(), 1.0)


# ---- the thresholds come from the settings the loaders and marts read -------------------------------

def settings_from_environment(tmp_path: Path, **env: str) -> Settings:
    return load_settings({"PILOT_VAR_DIR": str(tmp_path / "var"), **env}, env_file=tmp_path / "none.env")


def truth_with(settings: Settings, out: Path) -> dict[str, Any]:
    """The ground truth of the fixture's day (same seed and knobs, so the same records) under ``settings``."""
    simulate_day(out, DATE, cars=10, seed=5, config=CONFIG, only=["truth"], settings=settings)
    return json.loads((out / f"ground_truth_{DATE}.json").read_text(encoding="utf-8"))


def test_a_higher_speed_limit_from_the_environment_reaches_the_truth(
        day: dict[str, Any], tmp_path: Path) -> None:
    settings = settings_from_environment(tmp_path, PILOT_OVERSPEED_SPEED_KMH="90")
    assert settings.overspeed_speed_kmh == 90
    truth = truth_with(settings, tmp_path / "sim")
    assert truth["params"]["speed_threshold"] == 90 and truth["params"]["window_seconds"] == 30
    actual = {car: facts["overspeed_windows"] for car, facts in truth["cars"].items()}
    assert actual == expected_windows(day["drive"], speed=90)
    default = {car: facts["overspeed_windows"] for car, facts in day["truth"]["cars"].items()}
    assert all(set(actual[car]) <= set(default[car]) for car in default)
    assert truth["totals"]["overspeed_windows"] <= day["truth"]["totals"]["overspeed_windows"]
    assert truth["totals"]["overspeed_windows"] == sum(len(w) for w in actual.values())


def test_every_threshold_of_the_settings_reaches_the_truth(day: dict[str, Any], tmp_path: Path) -> None:
    settings = settings_from_environment(
        tmp_path, PILOT_OVERSPEED_WINDOW_SECONDS="60", PILOT_OVERSPEED_SPEED_KMH="75",
        PILOT_TIRE_THRESHOLD="85", PILOT_BATTERY_THRESHOLD="40", PILOT_SYMPTOM_Z_THRESHOLD="1.2",
        PILOT_SHARP_TURN_SHARE_THRESHOLD="0.2")
    truth = truth_with(settings, tmp_path / "sim")
    assert {k: truth["params"][k] for k in ("window_seconds", "speed_threshold", "tire_threshold",
                                            "battery_threshold", "z_threshold", "sharp_share_threshold")} \
        == {"window_seconds": 60, "speed_threshold": 75, "tire_threshold": 85, "battery_threshold": 40,
            "z_threshold": 1.2, "sharp_share_threshold": 0.2}
    cars, default = truth["cars"], day["truth"]["cars"]
    windows = {car: f["overspeed_windows"] for car, f in cars.items()}
    checks = {car: f["failed_checks"] for car, f in cars.items()}
    assert windows == expected_windows(day["drive"], 60, 75)
    assert checks == expected_checks(day["status"], 85, 40)
    assert windows != {car: f["overspeed_windows"] for car, f in default.items()}
    assert checks != {car: f["failed_checks"] for car, f in default.items()}
    assert truth["totals"]["symptom_abnormal"] != day["truth"]["totals"]["symptom_abnormal"]
    symptoms = [f["symptom"] | {"share": f["sharp_turn_share"]} for f in cars.values() if f["symptom"]]
    assert symptoms
    for symptom in symptoms:
        for pedal in ("speed_pedal", "break_pedal"):
            abnormal = abs(symptom[f"{pedal}_z"]) > 1.2
            assert symptom[f"{pedal}_symptom"] == ("abnormal" if abnormal else "normal")
        assert symptom["sharp_turn_symptom"] == ("abnormal" if symptom["share"] > 0.2 else "normal")
