"""A scheduled run without a trigger, and the Asset chain after it, on the real scheduler.

A one-minute schedule (written as `pilot schedule set` writes it; the DAG processor picks it up when
it parses the DAG) starts a run of the end-to-end DAG by itself, for the day before its time; its
batch load publishes the day's partitions, which start the marts DAG; the day's marts land in
PostgreSQL equal to the simulator's ground truth. The schedule is put back before the run ends.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from orchestration.airflow_api import AirflowClient
from orchestration.demo import ANALYSIS_DAG_ID, DAG_ID, MARTS_DAG_ID, report_failure
from orchestration.pipeline import RunSpec, ground_truth
from orchestration.schedule import Schedule, current_schedule, reset_schedule, save_schedule
from pilot.settings import Settings
from tests.support import sinks

CARS, SEED = 2, 21


def _new_scheduled_run(client: AirflowClient, known: set[str], timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for run in client.runs(DAG_ID, limit=20):
            if run["dag_run_id"] not in known and run["run_type"] == "scheduled":
                return run
        time.sleep(3)
    raise AssertionError(f"no scheduled run of {DAG_ID} within {timeout:.0f} s of a one-minute schedule")


def test_a_short_schedule_runs_the_day_by_itself_and_the_marts_dag_follows(stack: Settings) -> None:
    client = AirflowClient(stack)
    client.wait_for_dag(ANALYSIS_DAG_ID)
    client.pause(ANALYSIS_DAG_ID)  # the chain's last link is the e2e test's; CI time is short
    for dag_id in (DAG_ID, MARTS_DAG_ID):
        client.wait_for_dag(dag_id)
        client.unpause(dag_id)
    known = {r["dag_run_id"] for r in client.runs(DAG_ID)}
    known_marts = {r["dag_run_id"] for r in client.runs(MARTS_DAG_ID)}
    assert current_schedule(stack).cron == stack.schedule_cron, "a schedule was left behind"
    save_schedule(Schedule(cron="* * * * *", cars=CARS, seed=SEED), stack)
    try:
        run = _new_scheduled_run(client, known, timeout=240)
    finally:
        reset_schedule(stack)  # one scheduled run is enough (max_active_runs=1 holds the next back)
    run_id = run["dag_run_id"]
    final = client.wait_for_run(DAG_ID, run_id, timeout=900)
    if final["state"] != "success":
        report_failure(stack, client, run_id)
    assert final["state"] == "success", f"the scheduled run {run_id} ended {final['state']}"

    plan = client.xcom(DAG_ID, run_id, "plan")
    run_after = datetime.fromisoformat(run["run_after"].replace("Z", "+00:00"))
    assert plan["date"] == (run_after - timedelta(days=1)).strftime("%Y%m%d")  # the day that ended
    assert (plan["cars"], plan["seed"]) == (CARS, SEED)  # the schedule's fleet, not the UI defaults

    chained = [r for r in client.runs(MARTS_DAG_ID)
               if r["dag_run_id"] not in known_marts and r["run_type"] == "asset_triggered"]
    built = [client.xcom(MARTS_DAG_ID, r["dag_run_id"], "build_managed_smartcar_drive_info") or {}
             for r in chained if r["state"] == "success"]
    assert any(plan["date"] in b for b in built), f"no marts run after the load built {plan['date']}"

    spec = RunSpec(date=plan["date"], cars=CARS, seed=SEED)
    truth = ground_truth(spec, stack)
    sinks.assert_postgres_has_the_marts(stack, spec, truth)
    exported = client.xcom(DAG_ID, run_id, "wait_for_marts")
    adults = [f for f in truth["cars"].values() if f["adult"]]
    assert exported["managed_smartcar_drive_info"] == sum(f["drive_records"] for f in adults)
