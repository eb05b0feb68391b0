"""A scheduled run without a trigger, and the Asset chain after it, on the real scheduler.

A one-minute schedule (written as `pilot schedule set` writes it; the DAG processor picks it up when
it parses the DAG) starts a run of the end-to-end DAG by itself, for the day before its time; its
batch load publishes the day's partitions, which start the marts DAG; the day's marts land in
PostgreSQL equal to the simulator's ground truth. The schedule is put back before the run ends.

The same run also survives a crash of the scheduler: it is killed with SIGKILL (with the tasks its
executor runs) while a collect or load task is busy, `pilot stack up` starts it again, the
interrupted tasks are found and retried, and every sink matches the ground truth. (One run for both
checks: each costs a whole day through the DAG, and CI time is short.)
"""

from __future__ import annotations

import os
import signal
import time
from datetime import datetime, timedelta
from typing import Any

from orchestration.airflow_api import AirflowClient
from orchestration.demo import ANALYSIS_DAG_ID, DAG_ID, MARTS_DAG_ID, report_failure
from orchestration.pipeline import RunSpec, ground_truth
from orchestration.schedule import Schedule, current_schedule, reset_schedule, save_schedule
from pilot.settings import Settings
from stack import manager
from tests.support import sinks

CARS, SEED = 3, 21
BUSY = {"collect_status", "collect_drive", "upload_reference", "load_batch", "load_realtime"}


def _new_scheduled_run(client: AirflowClient, known: set[str], timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for run in client.runs(DAG_ID, limit=20):
            if run["dag_run_id"] not in known and run["run_type"] == "scheduled":
                return run
        time.sleep(3)
    raise AssertionError(f"no scheduled run of {DAG_ID} within {timeout:.0f} s of a one-minute schedule")


def kill_the_scheduler_while_a_task_runs(stack: Settings, client: AirflowClient, run_id: str) -> list[str]:
    """SIGKILL the scheduler's process group (the scheduler and the tasks its executor runs) while a
    collect or load task of the run is busy, then start it as `pilot stack up` does; the tasks hit."""
    deadline = time.monotonic() + 600
    running: list[str] = []
    while not running and time.monotonic() < deadline:
        tis = client.task_instances(DAG_ID, run_id)
        running = [t["task_id"] for t in tis if t["state"] == "running" and t["task_id"] in BUSY]
        time.sleep(0.5)
    assert running, "no collect or load task of the run got going"
    (scheduler,) = manager.status(stack, ["airflow-scheduler"])
    assert scheduler.pid
    os.killpg(scheduler.pid, signal.SIGKILL)
    gone = time.monotonic() + 30
    while manager.status(stack, ["airflow-scheduler"])[0].state == "up" and time.monotonic() < gone:
        time.sleep(0.5)
    assert manager.status(stack, ["airflow-scheduler"])[0].state != "up"
    manager.up(stack)  # what `pilot stack up` does
    return running


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
    killed_during = kill_the_scheduler_while_a_task_runs(stack, client, run_id)
    final = client.wait_for_run(DAG_ID, run_id, timeout=1500)
    if final["state"] != "success":
        report_failure(stack, client, run_id)
    assert final["state"] == "success", \
        f"the scheduled run {run_id}, its scheduler killed during {killed_during}, ended {final['state']}"

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
    sinks.assert_raw_partitions_hold_each_record_once(stack, spec, truth)
    sinks.assert_hbase_holds_every_event_once(stack, spec, truth)
    sinks.assert_redis_alerts_equal_truth(stack, spec, truth)
    sinks.assert_postgres_has_the_marts(stack, spec, truth)
    exported = client.xcom(DAG_ID, run_id, "wait_for_marts")
    adults = [f for f in truth["cars"].values() if f["adult"]]
    assert exported["managed_smartcar_drive_info"] == sum(f["drive_records"] for f in adults)
