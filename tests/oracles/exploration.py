"""pandas versions of the analysis tables (DOMAIN "Analysis"), computed from the marts' independent
oracles (:mod:`tests.oracles.marts`), not from the Hive tables."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd


def fastest_car_per_area(drive: pd.DataFrame) -> dict[tuple[str, str], tuple[float, int]]:
    """(area, car) -> (average speed, events) for the rank-1 car(s) of every area."""
    per_car = drive.groupby(["area_number", "car_number"])["speed"].agg(["mean", "size"]).reset_index()
    best = per_car.groupby("area_number")["mean"].transform("max")
    top = per_car[per_car["mean"] == best]
    return {(r.area_number, r.car_number): (float(r.mean), int(r.size)) for r in top.itertuples()}


def area_avg_speed(drive: pd.DataFrame, min_speed: float) -> dict[str, tuple[float, int, int]]:
    """area -> (average speed, events, cars), for areas averaging at least ``min_speed``."""
    stats = drive.groupby("area_number").agg(avg=("speed", "mean"), events=("speed", "size"),
                                             cars=("car_number", "nunique"))
    kept = stats[stats["avg"] >= min_speed]
    return {area: (float(r.avg), int(r.events), int(r.cars)) for area, r in kept.iterrows()}


def age_band(age: int) -> str:
    if age < 30:
        return "18-29"
    if age < 40:
        return "30-39"
    if age < 50:
        return "40-49"
    return "50-59" if age < 60 else "60+"


def overspeed_by_region_age(drive: pd.DataFrame, window_seconds: int, threshold: float
                            ) -> dict[tuple[str, str], tuple[int, int]]:
    """(region, age band) -> (overspeed windows, cars with one)."""
    frame = drive.copy()
    clock = frame["r_date"].str[8:14]
    second = clock.str[:2].astype(int) * 3600 + clock.str[2:4].astype(int) * 60 + clock.str[4:6].astype(int)
    frame["window"] = second // window_seconds
    means = frame.groupby(["car_number", "region", "age", "window"])["speed"].mean().reset_index()
    over = means[means["speed"] > threshold].copy()
    over["age_band"] = over["age"].map(age_band)
    grouped = over.groupby(["region", "age_band"]).agg(windows=("window", "size"),
                                                      cars=("car_number", "nunique"))
    return {key: (int(r.windows), int(r.cars)) for key, r in grouped.iterrows()}


def _tyre(value: int) -> Decimal:
    return Decimal("0.1") if value < 10 else Decimal("0.2") if value < 20 else (
        Decimal("0.4") if value < 40 else Decimal("0.5"))


def _battery(value: int) -> Decimal:
    return Decimal("0.2") if value < 20 else Decimal("0.4") if value < 40 else (
        Decimal("0.6") if value < 60 else Decimal("1.0"))


def health_points(row: dict) -> Decimal:
    """The status-health points of one status record, in exact decimals (DOMAIN "Analysis")."""
    grade = {"A": Decimal("1.0"), "B": Decimal("0.5"), "C": Decimal("0.0")}
    points = sum((_tyre(int(row[t])) for t in ("tire_fl", "tire_fr", "tire_bl", "tire_br")), Decimal(0))
    points += sum((Decimal(0) if str(row[light]) == "2" else Decimal("0.5")
                   for light in ("light_fl", "light_fr", "light_bl", "light_br")), Decimal(0))
    points += grade[row["engine"]] + grade[row["break"]] + _battery(int(row["battery"]))
    capacity, year = int(row["car_capacity"]), int(row["car_year"])
    points -= Decimal("0.3") if capacity < 1500 else Decimal("0.2") if capacity < 2000 else Decimal("0.1")
    points -= Decimal("0.3") if year < 2005 else Decimal("0.2") if year < 2010 else Decimal("0.1")
    points -= Decimal("0.3") if row["car_model"] in ("B", "D", "F", "H") else Decimal(0)
    return points


def status_health(status: pd.DataFrame) -> dict[tuple[str, str], tuple[Decimal, str]]:
    """(car, reg_date) -> (points, label) for every record of the status mart."""
    out = {}
    for row in status.to_dict("records"):
        points = health_points(row)
        out[(row["car_number"], row["reg_date"])] = (points, "abnormal" if points < 6 else "normal")
    return out
