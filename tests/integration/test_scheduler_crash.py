"""The Airflow scheduler killed with SIGKILL in the middle of a run: `pilot stack up` starts it
again, the run finishes (its interrupted tasks are found and retried), and every sink matches the
simulator's ground truth."""

from __future__ import annotations

import os
import signal
import time

from orchestration.demo import DAG_ID, report_failure, trigger_run
from orchestration.pipeline import RunSpec, ground_truth
from pilot.settings import Settings
from stack import manager
from tests.support import sinks

SPEC = RunSpec(date="20200413", cars=3, seed=17)  # a date only this module uses
BUSY = {"collect_status", "collect_drive", "upload_reference", "load_batch", "load_realtime"}


def test_scheduler_killed_mid_run_then_stack_up_finishes_the_run(stack: Settings) -> None:
    client, run_id = trigger_run(stack, SPEC)
    deadline = time.monotonic() + 600
    running: list[str] = []
    while not running and time.monotonic() < deadline:
        tis = client.task_instances(DAG_ID, run_id)
        running = [t["task_id"] for t in tis if t["state"] == "running" and t["task_id"] in BUSY]
        time.sleep(0.5)
    assert running, "no task of the run got going"
    (scheduler,) = manager.status(stack, ["airflow-scheduler"])
    assert scheduler.pid
    os.killpg(scheduler.pid, signal.SIGKILL)  # the scheduler and the tasks its executor runs
    gone = time.monotonic() + 30
    while manager.status(stack, ["airflow-scheduler"])[0].state == "up" and time.monotonic() < gone:
        time.sleep(0.5)
    assert manager.status(stack, ["airflow-scheduler"])[0].state != "up"

    manager.up(stack)  # what `pilot stack up` does
    run = client.wait_for_run(DAG_ID, run_id, timeout=1500)
    if run["state"] != "success":
        report_failure(stack, client, run_id)
    assert run["state"] == "success", f"the run killed at {running} ended {run['state']}"
    truth = ground_truth(SPEC, stack)
    sinks.assert_raw_partitions_hold_each_record_once(stack, SPEC, truth)
    sinks.assert_hbase_holds_every_event_once(stack, SPEC, truth)
    sinks.assert_redis_alerts_equal_truth(stack, SPEC, truth)
    sinks.assert_postgres_has_the_marts(stack, SPEC, truth)
