"""Ground truth of a simulated day, computed from the generated records (not from intentions).

Rules follow DOMAIN.md: inspection checks from day averages and any-fault flags; symptoms as
absolute z-scores of each adult car's day-average pedal steps against all adult cars of the day
(population standard deviation; z is 0 when every car has the same average) and the share of
sharp steering events; overspeed as event-time tumbling windows aligned to midnight whose mean
speed is strictly above the threshold.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ingest.records import SHARP_STEER_CODES, STATUS_FIELDS
from pilot.rules import Thresholds

TIRES = STATUS_FIELDS[2:6]
LIGHTS = STATUS_FIELDS[6:10]
CHECKS = ("Tire Check", "Light Check", "Engine Check", "Brake Check", "Battery Check")


def truth_file_name(date: str) -> str:
    return f"ground_truth_{date}.json"


def _codes(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy(), [str(value) for value in series.cat.categories]
    codes, labels = pd.factorize(series.astype(str), sort=True)
    return codes, [str(value) for value in labels]


def _matches(series: pd.Series, values: tuple[str, ...]) -> np.ndarray:
    codes, labels = _codes(series)
    wanted = np.array([label in values for label in labels] + [False], dtype=bool)
    return wanted[np.where(codes < 0, len(labels), codes)]


def _seconds_of_day(series: pd.Series) -> np.ndarray:
    codes, labels = _codes(series)
    clock = np.array([int(t[8:10]) * 3600 + int(t[10:12]) * 60 + int(t[12:14]) for t in labels], np.int64)
    return clock[codes]


class _ByCar:
    """Per-car sums and means over a frame's rows, keyed by the frame's car labels."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.codes, self.cars = _codes(frame["car_number"])
        self.count = np.bincount(self.codes, minlength=len(self.cars))

    def total(self, values: np.ndarray) -> np.ndarray:
        return np.bincount(self.codes, weights=values, minlength=len(self.cars))

    def mean(self, values: np.ndarray) -> np.ndarray:
        return self.total(np.asarray(values, dtype=np.float64)) / np.maximum(self.count, 1)


def _status_facts(status: pd.DataFrame, limits: Thresholds) -> dict[str, dict[str, Any]]:
    by = _ByCar(status)
    averages = {name: by.mean(status[name].to_numpy()) for name in (*TIRES, "battery")}
    light_fault = by.total(np.any([_matches(status[name], ("2",)) for name in LIGHTS], axis=0))
    failed = {
        "Tire Check": np.any([averages[name] < limits.tire_threshold for name in TIRES], axis=0),
        "Light Check": light_fault > 0,
        "Engine Check": by.total(_matches(status["engine"], ("C",))) > 0,
        "Brake Check": by.total(_matches(status["break"], ("C",))) > 0,
        "Battery Check": averages["battery"] < limits.battery_threshold,
    }
    return {
        car: {
            "status_records": int(by.count[index]),
            "failed_checks": [label for label in CHECKS if failed[label][index]],
            "status_averages": {name: float(averages[name][index]) for name in averages},
        }
        for index, car in enumerate(by.cars) if by.count[index]
    }


def _window_label(date: str, second: int) -> str:
    return f"{date}{second // 3600:02d}{second // 60 % 60:02d}{second % 60:02d}"


def _drive_facts(drive: pd.DataFrame, date: str, limits: Thresholds) -> dict[str, dict[str, Any]]:
    by = _ByCar(drive)
    sharp = by.total(_matches(drive["steer_angle"], SHARP_STEER_CODES))
    speed_pedal = by.mean(drive["speed_pedal"].to_numpy())
    break_pedal = by.mean(drive["break_pedal"].to_numpy())

    window = _seconds_of_day(drive["r_date"]) // limits.window_seconds
    windows = int(window.max()) + 1 if len(window) else 1
    key = by.codes.astype(np.int64) * windows + window
    size = len(by.cars) * windows
    sums = np.bincount(key, weights=drive["speed"].to_numpy().astype(np.float64), minlength=size)
    counts = np.bincount(key, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        alert = (counts > 0) & (sums / np.maximum(counts, 1) > limits.speed_threshold)
    alert = alert.reshape(len(by.cars), windows)
    return {
        car: {
            "drive_records": int(by.count[index]),
            "avg_speed_pedal": float(speed_pedal[index]),
            "avg_break_pedal": float(break_pedal[index]),
            "sharp_turns": int(sharp[index]),
            "sharp_turn_share": float(sharp[index] / by.count[index]),
            "overspeed_windows": [
                _window_label(date, int(w) * limits.window_seconds) for w in np.flatnonzero(alert[index])
            ],
        }
        for index, car in enumerate(by.cars) if by.count[index]
    }


def _z_scores(values: dict[str, float]) -> dict[str, float]:
    array = np.array(list(values.values()), dtype=np.float64)
    if not len(array):
        return {}
    spread = array.std()
    scores = (array - array.mean()) / spread if spread > 0 else np.zeros_like(array)
    return dict(zip(values, scores.tolist(), strict=True))


def _symptoms(cars: dict[str, dict[str, Any]], limits: Thresholds) -> None:
    adults = [car for car, facts in cars.items() if facts["adult"] and facts["drive_records"]]
    speed = _z_scores({car: cars[car]["avg_speed_pedal"] for car in adults})
    brake = _z_scores({car: cars[car]["avg_break_pedal"] for car in adults})
    for car, facts in cars.items():
        if car not in speed:
            facts["symptom"] = None
            continue

        def label(abnormal: bool) -> str:
            return "abnormal" if abnormal else "normal"

        facts["symptom"] = {
            "speed_pedal_z": speed[car],
            "speed_pedal_symptom": label(abs(speed[car]) > limits.z_threshold),
            "break_pedal_z": brake[car],
            "break_pedal_symptom": label(abs(brake[car]) > limits.z_threshold),
            "sharp_turn_symptom": label(facts["sharp_turn_share"] > limits.sharp_share_threshold),
        }


def _check_counts(cars: dict[str, dict[str, Any]]) -> dict[str, int]:
    return {label: sum(label in facts["failed_checks"] for facts in cars.values()) for label in CHECKS}


def _totals(cars: dict[str, dict[str, Any]]) -> dict[str, Any]:
    adults = {car: facts for car, facts in cars.items() if facts["adult"]}
    symptomatic = {
        name: sum(1 for f in adults.values() if f["symptom"] and f["symptom"][name] == "abnormal")
        for name in ("speed_pedal_symptom", "break_pedal_symptom", "sharp_turn_symptom")
    }
    return {
        "cars": len(cars),
        "adult_cars": len(adults),
        "status_records": sum(f["status_records"] for f in cars.values()),
        "drive_records": sum(f["drive_records"] for f in cars.values()),
        "checks": _check_counts(cars),
        "checks_adult": _check_counts(adults),
        "emergency_cars_adult": sum(bool(f["failed_checks"]) for f in adults.values()),
        "overspeed_windows": sum(len(f["overspeed_windows"]) for f in cars.values()),
        "overspeed_cars": sum(bool(f["overspeed_windows"]) for f in cars.values()),
        "zero_sharp_turn_cars": sum(f["drive_records"] > 0 and f["sharp_turns"] == 0 for f in cars.values()),
        "zero_sharp_turn_cars_adult": sum(
            f["drive_records"] > 0 and f["sharp_turns"] == 0 for f in adults.values()
        ),
        "symptom_abnormal": symptomatic,
        "symptom_abnormal_cars_adult": sum(
            1 for f in adults.values()
            if f["symptom"] and "abnormal" in (f["symptom"][k] for k in symptomatic)
        ),
    }


def compute_ground_truth(
    status_df: pd.DataFrame,
    drive_df: pd.DataFrame,
    master_df: pd.DataFrame,
    date: str,
    thresholds: Thresholds,
    seed: int | None = None,
) -> dict[str, Any]:
    """Per-car facts and fleet totals of one day; frames may be typed (simulator) or plain text.

    ``thresholds``: :meth:`Thresholds.from_settings` of the settings the loaders and marts use.
    """
    status = _status_facts(status_df, thresholds)
    drive = _drive_facts(drive_df, date, thresholds)
    ages = dict(zip(master_df["car_number"].astype(str), master_df["age"].astype(int), strict=True))
    empty_status = {"status_records": 0, "failed_checks": [], "status_averages": {}}
    empty_drive = {
        "drive_records": 0, "avg_speed_pedal": 0.0, "avg_break_pedal": 0.0, "sharp_turns": 0,
        "sharp_turn_share": 0.0, "overspeed_windows": [],
    }
    cars: dict[str, dict[str, Any]] = {}
    for car in sorted(set(status) | set(drive)):
        cars[car] = {
            "adult": ages.get(car, 0) >= thresholds.adult_age,
            "age": ages.get(car),
            **status.get(car, empty_status),
            **drive.get(car, empty_drive),
        }
    _symptoms(cars, thresholds)
    return {
        "date": date,
        "seed": seed,
        "cars": cars,
        "totals": _totals(cars),
        "params": asdict(thresholds),
    }


def write_ground_truth(path: str | Path, truth: dict[str, Any]) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(truth, indent=1, sort_keys=True, ensure_ascii=False)
    target.write_text(text + "\n", encoding="utf-8")
    return target
