"""The five marts computed with pandas straight from the raw files of the batch loader's layout.

Rules from DOMAIN.md: a mart for business date D holds the events whose event date is D, from
collection partitions D..D+late_days; one row per (car, event time); adults (age >= 18) only.
Symptoms: per car the day-average pedal steps, z = (avg - mean of the cars' averages) / population
std of those averages (0 when the std is 0), abnormal when |z| > z_threshold; sharp turns (L2, L3,
R2, R3) abnormal when count / events > share threshold; every car of the drive mart is kept.
Inspection: tyre day-average < tire threshold (any tyre), any light 2, any engine C, any brake C,
battery day-average < battery threshold; only cars with at least one check.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

STATUS_COLUMNS = [
    "reg_date",
    "car_number",
    "tire_fl",
    "tire_fr",
    "tire_bl",
    "tire_br",
    "light_fl",
    "light_fr",
    "light_bl",
    "light_br",
    "engine",
    "break",
    "battery",
]
DRIVE_COLUMNS = [
    "r_date",
    "car_number",
    "speed_pedal",
    "break_pedal",
    "steer_angle",
    "direct_light",
    "speed",
    "area_number",
]
MASTER_COLUMNS = [
    "car_number",
    "sex",
    "age",
    "marriage",
    "region",
    "job",
    "car_capacity",
    "car_year",
    "car_model",
]
PROFILE = MASTER_COLUMNS[1:]
CHECK_LABELS = ["Tire Check", "Light Check", "Engine Check", "Brake Check", "Battery Check"]


@dataclass(frozen=True)
class Rules:
    z_threshold: float = 2.0
    sharp_share: float = 0.30
    tire: float = 80.0
    battery: float = 30.0
    late_days: int = 1


def _visible_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(("_", ".")))


def _read_lines(files: list[Path], width: int, names: list[str], sep: str) -> pd.DataFrame:
    frames = []
    for path in files:
        frame = pd.read_csv(
            path,
            sep=sep,
            header=None,
            dtype=str,
            keep_default_na=False,
            usecols=range(width),
            names=None,
            engine="c",
        )
        frame.columns = names
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=names)


def _collected(layout: Path, kind: str, date: str, late_days: int, names: list[str]) -> pd.DataFrame:
    day = dt.date(int(date[:4]), int(date[4:6]), int(date[6:]))
    frames = []
    for offset in range(late_days + 1):
        wrk = (day + dt.timedelta(days=offset)).strftime("%Y%m%d")
        frame = _read_lines(_visible_files(layout / kind / f"wrk_date={wrk}"), len(names), names, ",")
        frame["wrk_date"] = wrk
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def master(layout: Path) -> pd.DataFrame:
    frame = _read_lines(_visible_files(layout / "car-master"), 9, MASTER_COLUMNS, "|")
    for column in ("age", "car_capacity", "car_year"):
        frame[column] = frame[column].astype(int)
    return frame


def adults(layout: Path) -> pd.DataFrame:
    frame = master(layout)
    return frame[frame["age"] >= 18]


def _events_of_day(frame: pd.DataFrame, time_column: str, date: str) -> pd.DataFrame:
    day = frame[frame[time_column].str[:8] == date]
    day = day.sort_values(["car_number", time_column, "wrk_date"], kind="stable")
    return day.drop_duplicates(["car_number", time_column], keep="first").drop(columns="wrk_date")


def status_mart(layout: Path, date: str, rules: Rules = Rules()) -> pd.DataFrame:
    raw = _collected(layout, "car-batch-log", date, rules.late_days, STATUS_COLUMNS)
    day = _events_of_day(raw, "reg_date", date)
    for column in ("tire_fl", "tire_fr", "tire_bl", "tire_br", "battery"):
        day[column] = day[column].astype(int)
    merged = day.merge(adults(layout), on="car_number", how="inner")
    return merged[STATUS_COLUMNS + PROFILE].reset_index(drop=True)


def drive_mart(layout: Path, date: str, rules: Rules = Rules()) -> pd.DataFrame:
    raw = _collected(layout, "drive-log", date, rules.late_days, DRIVE_COLUMNS)
    day = _events_of_day(raw, "r_date", date)
    for column in ("speed_pedal", "break_pedal", "speed"):
        day[column] = day[column].astype(int)
    merged = day.merge(adults(layout), on="car_number", how="inner")
    return merged[DRIVE_COLUMNS + PROFILE].reset_index(drop=True)


def _z(values: pd.Series) -> pd.Series:
    spread = float(np.std(values.to_numpy(dtype=float)))  # population standard deviation
    if spread == 0:
        return pd.Series(0.0, index=values.index)
    return (values - values.mean()) / spread


def symptom_mart(drive: pd.DataFrame, rules: Rules = Rules()) -> pd.DataFrame:
    sharp = drive["steer_angle"].isin(["L2", "L3", "R2", "R3"])
    per_car = pd.DataFrame(
        {
            "drive_events": drive.groupby("car_number").size(),
            "avg_speed_pedal": drive.groupby("car_number")["speed_pedal"].mean(),
            "avg_break_pedal": drive.groupby("car_number")["break_pedal"].mean(),
            "sharp_turns": sharp.groupby(drive["car_number"]).sum().astype(int),
        }
    )
    per_car["speed_pedal_z"] = _z(per_car["avg_speed_pedal"])
    per_car["break_pedal_z"] = _z(per_car["avg_break_pedal"])
    per_car["sharp_turn_share"] = per_car["sharp_turns"] / per_car["drive_events"]

    def label(flags: pd.Series) -> pd.Series:
        return flags.map({True: "abnormal", False: "normal"})

    per_car["speed_pedal_symptom"] = label(per_car["speed_pedal_z"].abs() > rules.z_threshold)
    per_car["break_pedal_symptom"] = label(per_car["break_pedal_z"].abs() > rules.z_threshold)
    per_car["sharp_turn_symptom"] = label(per_car["sharp_turn_share"] > rules.sharp_share)
    return per_car.reset_index()


def emergency_mart(status: pd.DataFrame, rules: Rules = Rules()) -> pd.DataFrame:
    grouped = status.groupby("car_number")
    per_car = pd.DataFrame(
        {
            "status_events": grouped.size(),
            **{
                f"avg_{t}": grouped[t].mean() for t in ("tire_fl", "tire_fr", "tire_bl", "tire_br", "battery")
            },
            "light_any": grouped.apply(
                lambda g: bool((g[["light_fl", "light_fr", "light_bl", "light_br"]] == "2").to_numpy().any()),
                include_groups=False,
            ),
            "engine_any": grouped["engine"].apply(lambda s: bool((s == "C").any())),
            "brake_any": grouped["break"].apply(lambda s: bool((s == "C").any())),
        }
    )
    tires = per_car[["avg_tire_fl", "avg_tire_fr", "avg_tire_bl", "avg_tire_br"]]
    flags = {
        "Tire Check": (tires < rules.tire).any(axis=1),
        "Light Check": per_car["light_any"],
        "Engine Check": per_car["engine_any"],
        "Brake Check": per_car["brake_any"],
        "Battery Check": per_car["avg_battery"] < rules.battery,
    }
    per_car["checks"] = [
        [label for label in CHECK_LABELS if bool(flags[label][car])] for car in per_car.index
    ]
    per_car = per_car[per_car["checks"].map(len) > 0]
    return per_car.drop(columns=["light_any", "engine_any", "brake_any"]).reset_index()


def buylist_mart(layout: Path, month: str) -> pd.DataFrame:
    files = _visible_files(layout / "buy-list")
    frame = _read_lines(files, 4, ["car_number", "item", "score", "month"], ",")
    frame = frame[frame["month"] == month]
    frame["score"] = frame["score"].astype(int)
    merged = frame.merge(adults(layout), on="car_number", how="inner")
    return merged[["car_number", "item", "score", *PROFILE]].reset_index(drop=True)
