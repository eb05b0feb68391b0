"""How long a task, and a whole run, may take: derived from the run's fleet size.

A fixed half hour per task let a healthy large run time out and a hung small one wait as long.
Each task gets a fixed allowance plus seconds per car: about three times the per-car time that
`bench/bench_pipeline.py` measured (BENCHMARKS.md, "Pipeline"), so a healthy run keeps its margin
and a stuck one fails in proportion to its size.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from orchestration.pipeline import MAX_CARS
from pilot.errors import InvalidInput

DRIVE_EVENTS_PER_CAR_DAY = 43_200  # one event every 2 s for a whole day
FIXED_SECONDS = 600  # start-up, connections, a retry's back-off, a slow minute of the machine
PER_CAR_SECONDS = {
    "plan": 0.0,
    "simulate": 0.2,
    "upload_reference": 0.1,
    "collect_status": 0.5,
    "collect_drive": 0.5,
    "load_batch": 0.7,
    "load_realtime": 10.0,
    "build": 3.5,  # any mart build (the drive and status marts are the slow ones)
    "export": 1.0,
    "summary": 0.1,
}
# The longest chain of the end-to-end DAG (its other tasks run beside it).
CRITICAL_PATH = ("plan", "simulate", "collect_drive", "load_batch", "build", "build", "build",
                 "export", "load_realtime", "summary")


def stage_of(task_id: str) -> str:
    """``build_<mart>`` and ``export_<mart>`` share their kind's budget; others are their own."""
    kind = task_id.split("_", 1)[0]
    return kind if kind in ("build", "export") else task_id


def task_timeout(task_id: str, cars: int, rate: float = 0) -> timedelta:
    """``rate``: live driving events per second (0 = as fast as possible), which paces the drive
    collector: at a fixed rate it takes as long as the day's events need."""
    per_car = PER_CAR_SECONDS.get(stage_of(task_id), max(PER_CAR_SECONDS.values()))
    seconds = FIXED_SECONDS + per_car * cars
    if task_id == "collect_drive" and rate > 0:
        seconds += cars * DRIVE_EVENTS_PER_CAR_DAY / rate
    return timedelta(seconds=seconds)


def run_timeout(cars: int = MAX_CARS, rate: float = 0) -> timedelta:
    """An upper bound for a whole run: the critical path's budgets, end to end."""
    return sum((task_timeout(stage, cars, rate) for stage in CRITICAL_PATH), timedelta())


def check_fits(cars: int, rate: float) -> None:
    """A run paced so slowly that it could not finish within the DAG-run timeout is refused."""
    needed = run_timeout(cars, rate)
    if needed > run_timeout():
        raise InvalidInput(
            f"{cars} cars at {rate:g} events/s would need up to {needed}, more than a run may take "
            f"({run_timeout()}); raise the rate (0 = as fast as possible) or lower the fleet size")


def size_of(params: Mapping[str, Any]) -> tuple[int, float]:
    """The run's fleet size and live rate; a DAG without a size (the marts DAG) is sized for the
    largest fleet."""
    try:
        cars = min(max(int(params.get("cars") or MAX_CARS), 1), MAX_CARS)
    except (TypeError, ValueError):
        cars = MAX_CARS
    try:
        rate = max(float(params.get("rate") or 0), 0.0)
    except (TypeError, ValueError):
        rate = 0.0
    return cars, rate


def size_the_timeout(context: Mapping[str, Any]) -> None:
    """A task's pre-execute hook: set its execution timeout from the run's size before it runs
    (Airflow reads the timeout after the hook)."""
    task = context["task"]
    task.execution_timeout = task_timeout(task.task_id, *size_of(context.get("params") or {}))
