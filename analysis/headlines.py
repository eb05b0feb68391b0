"""The analysis results of a business date in a few lines (what `pilot demo` prints at the end)."""

from __future__ import annotations

from typing import Any

from marts import sqlfile
from marts.hive import HiveSession
from pilot.dates import Day
from pilot.sql_values import SqlDate, SqlIdentifier

SHOWN_CARS = 3


def headlines(hive: HiveSession, database: str, day: Day | str) -> dict[str, Any]:
    """Metrics, a few cars' recommendations and every cluster's profile, from the Hive tables."""
    params = {"db": SqlIdentifier(database), "biz_date": SqlDate(Day.of(day).text)}

    def rows(name: str) -> list[tuple[Any, ...]]:
        return hive.query(sqlfile.statements(f"ops/{name}.sql", params)[0]).rows

    metrics = {(m, k): float(v) for m, k, v in rows("model_metrics")}
    per_car: dict[str, list[str]] = {}
    for car, _, item in rows("recommendations"):
        per_car.setdefault(str(car), []).append(str(item))
    profiles = rows("cluster_profiles")

    def figure(model: str, metric: str) -> str:
        value = metrics.get((model, metric))
        return "n/a" if value is None else f"{value:.3f}"

    return {
        "recommendations (ALS)": {car: ", ".join(items) for car, items in list(per_car.items())[:SHOWN_CARS]},
        "model quality": {
            "ALS precision@3 (planted taste)": figure("als", "precision_at_3"),
            "popularity baseline precision@3": figure("popularity", "precision_at_3"),
            "random forest F1 (abnormal)": figure("random_forest", "f1"),
            "random forest accuracy": figure("random_forest", "accuracy"),
            "k-means clusters (k by silhouette)": figure("kmeans", "k").removesuffix(".000"),
            "k-means silhouette": figure("kmeans", "silhouette"),
            "style network accuracy (held-out cars)": figure("mlp", "accuracy"),
            "majority-class accuracy (same cars)": figure("majority_class", "accuracy"),
        },
        "clusters": [f"{cluster}: {cars} cars, {description}" for cluster, cars, description in profiles],
    }
