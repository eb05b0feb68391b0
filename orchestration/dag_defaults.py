"""Defaults shared by the DAG files: retries, timeouts and the run parameters a user sets in the UI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import Param

from orchestration.budgets import run_timeout, size_the_timeout, task_timeout
from orchestration.pipeline import MAX_CARS
from orchestration.schedule import Schedule
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
                   description="Business date yyyyMMdd; empty = the dates of the Asset events that "
                               "started the run, else the day of its logical date")
RUN_DATE_PARAM = Param("", type="string", pattern=f"^({DAY_PATTERN})?$",
                       description="Business date yyyyMMdd; empty = the day the run's data interval "
                                   "starts on (a scheduled run: the day that ended when it ran)")


def run_params(schedule: Schedule) -> dict[str, Param]:
    """The end-to-end DAG's parameters; a scheduled run takes the schedule's fleet as defaults."""
    return {
        "date": RUN_DATE_PARAM,
        "cars": Param(schedule.cars, type="integer", minimum=1, maximum=MAX_CARS, description="Fleet size"),
        "seed": Param(schedule.seed, type="integer", minimum=0,
                      description="Simulator seed (same seed = same data)"),
        "rate": Param(schedule.rate, type="number", minimum=0,
                      description="Live driving events per second into Kafka; 0 = as fast as possible"),
    }
