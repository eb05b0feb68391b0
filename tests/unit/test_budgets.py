"""Task and run timeouts follow the run's size; the hook sets them before Airflow reads them."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from orchestration.budgets import (
    CRITICAL_PATH,
    check_fits,
    run_timeout,
    size_the_timeout,
    task_timeout,
)
from orchestration.dag_defaults import DEFAULT_ARGS, run_params
from orchestration.pipeline import MAX_CARS, plan
from orchestration.schedule import current_schedule
from pilot.errors import InvalidInput

# Seconds the tasks took for 100 cars in BENCHMARKS.md's pipeline run (2026-11-25).
MEASURED_100_CARS = {"load_realtime": 321.8, "build_managed_smartcar_drive_info": 109.8,
                     "build_managed_smartcar_status_info": 95.7, "load_batch": 20.5, "collect_status": 15.6,
                     "collect_drive": 13.0, "export_managed_smartcar_drive_info": 31.9}


@pytest.mark.parametrize("cars", [1, 100, 560, 1600, MAX_CARS])
def test_every_task_has_room_for_twice_the_measured_work_at_every_allowed_size(cars: int) -> None:
    for task_id, seconds in MEASURED_100_CARS.items():
        assert task_timeout(task_id, cars).total_seconds() > 2 * seconds * cars / 100, (task_id, cars)


def test_a_small_run_fails_long_before_a_large_one_would() -> None:
    assert task_timeout("load_realtime", 3) < timedelta(minutes=15)
    assert task_timeout("load_realtime", MAX_CARS) > timedelta(hours=4)


def test_the_hook_sets_the_timeout_from_the_run_params() -> None:
    task = SimpleNamespace(task_id="build_managed_smartcar_drive_info", execution_timeout=timedelta(0))
    size_the_timeout({"task": task, "params": {"cars": 1600, "rate": 0}})
    assert task.execution_timeout == task_timeout("build_x", 1600)
    size_the_timeout({"task": task, "params": {"date": "20200322"}})  # the marts DAG: no fleet size
    assert task.execution_timeout == task_timeout("build_x", MAX_CARS)


def test_dag_defaults_wire_the_hook_and_the_size_limit() -> None:
    assert DEFAULT_ARGS["pre_execute"] is size_the_timeout
    assert DEFAULT_ARGS["execution_timeout"] >= max(task_timeout(t, MAX_CARS) for t in CRITICAL_PATH)
    assert run_params(current_schedule())["cars"].schema["maximum"] == MAX_CARS


def test_a_paced_run_that_cannot_finish_in_a_run_timeout_is_refused_at_plan() -> None:
    check_fits(MAX_CARS, 0)
    check_fits(100, 2000)  # 4.32 M events at 2,000/s: 36 min of collection
    with pytest.raises(InvalidInput, match="raise the rate"):
        check_fits(MAX_CARS, 10)
    with pytest.raises(InvalidInput):
        plan({"date": "20200322", "cars": MAX_CARS, "seed": 1, "rate": 10})
    assert run_timeout(MAX_CARS, 10) > run_timeout()
