"""Defaults shared by the DAG files: retries, timeouts and the run parameters a user sets in the UI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import Param

from orchestration.budgets import run_timeout, size_the_timeout, task_timeout
from orchestration.pipeline import MAX_CARS
from pilot.dates import DAY_PATTERN

START_DATE = datetime(2020, 1, 1, tzinfo=UTC)

DEFAULT_ARGS = {
    "owner": "smartcar-pilot",
    "retries": 2,
    "retry_delay": timedelta(seconds=20),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=5),
    # sized for the largest fleet here, then for the run's own size before each task runs
    "execution_timeout": task_timeout("load_realtime", MAX_CARS),
    "pre_execute": size_the_timeout,
}
RUN_TIMEOUT = run_timeout()  # a whole run of the largest fleet; no healthy run comes near it

DATE_PARAM = Param("", type="string", pattern=f"^({DAY_PATTERN})?$",
                   description="Business date yyyyMMdd; empty = the run's logical date")

RUN_PARAMS = {
    "date": DATE_PARAM,
    "cars": Param(100, type="integer", minimum=1, maximum=MAX_CARS, description="Fleet size"),
    "seed": Param(42, type="integer", minimum=0, description="Simulator seed (same seed = same data)"),
    "rate": Param(0, type="number", minimum=0,
                  description="Live driving events per second into Kafka; 0 = as fast as possible"),
}
