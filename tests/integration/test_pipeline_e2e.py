"""The end-to-end DAG, triggered through the Airflow REST API and run by the real scheduler,
checked store by store against the simulator's ground truth.

The day goes through the DAG the hard way: its live collector is killed with SIGKILL after it has
committed part of the day, Airflow retries it, and then the whole day is run a second time. Every
store must still hold each record exactly once (issue 12: idempotent collection end to end).
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import psutil
import pytest

from ingest.collectors.ledger import live_source, read_entry
from orchestration.airflow_api import AirflowClient
from orchestration.demo import DAG_ID, report_failure, trigger_run
from orchestration.pipeline import RunSpec, ground_truth
from pilot.settings import Settings
from tests.support import sinks

MARTS_DAG_ID = "smartcar_marts"
ANALYSIS_DAG_ID = "smartcar_analysis"
SPEC = RunSpec(date="20200411", cars=6, seed=11, rate=20_000)  # paced: the kill lands mid-day


def task_process(ti_id: str) -> psutil.Process | None:
    """The process running a task instance (the LocalExecutor names it ``airflow worker -- <id>``;
    its parent, the supervisor, is ``airflow worker -- LocalExecutor: <id>``)."""
    for proc in psutil.process_iter(["cmdline"]):
        if " ".join(proc.info["cmdline"] or []).strip() == f"airflow worker -- {ti_id}":
            return proc
    return None


def kill_collect_drive_mid_day(stack: Settings, client: AirflowClient, run_id: str) -> int:
    """SIGKILL the run's ``collect_drive`` task once it committed part of the day, not all of it;
    the position the ledger held when it died."""
    source = live_source(SPEC.date, SPEC.cars, SPEC.seed)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        (ti,) = [t for t in client.task_instances(DAG_ID, run_id) if t["task_id"] == "collect_drive"]
        assert ti["state"] not in ("success", "failed", "upstream_failed"), "finished before the kill"
        entry = read_entry(stack, source) if ti["state"] == "running" else None
        if entry and entry["position"] > 0 and not entry["complete"]:
            proc = task_process(ti["id"])
            if proc is not None:
                os.kill(proc.pid, signal.SIGKILL)
                entry = read_entry(stack, source)
                assert entry is not None and not entry["complete"], "finished before the kill"
                return int(entry["position"])
        time.sleep(0.2)
    raise AssertionError("collect_drive never ran long enough to be killed")


def run_to_success(stack: Settings, client: AirflowClient, run_id: str) -> None:
    run = client.wait_for_run(DAG_ID, run_id, timeout=1200)
    if run["state"] != "success":
        report_failure(stack, client, run_id)
    assert run["state"] == "success", f"run {run_id} ended {run['state']}"


def wait_for_analysis(client: AirflowClient, timeout: float = 900) -> list[dict[str, Any]]:
    """The analysis runs the mart Asset events started, once none is queued or running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = [r for r in client._request("GET", f"/api/v2/dags/{ANALYSIS_DAG_ID}/dagRuns?limit=100")
                ["dag_runs"] if r["run_type"] == "asset_triggered"]
        if runs and all(r["state"] in ("success", "failed") for r in runs):
            return runs
        time.sleep(5)
    raise AssertionError(f"the analysis DAG did not finish its asset-triggered runs within {timeout:.0f} s")


@pytest.fixture(scope="module")
def finished_run(stack: Settings) -> dict[str, Any]:
    already = read_entry(stack, live_source(SPEC.date, SPEC.cars, SPEC.seed))  # an earlier session's
    client = AirflowClient(stack)
    client, first = trigger_run(stack, SPEC, client)
    killed_at = None if already and already["complete"] else kill_collect_drive_mid_day(stack, client, first)
    run_to_success(stack, client, first)
    tries = {t["task_id"]: t["try_number"] for t in client.task_instances(DAG_ID, first)}
    # from here on the analysis runs by itself once the day's marts are published again (unpaused
    # only now: events published while a DAG is paused start nothing, and one round of its Spark
    # jobs is enough to show it; CI time is short)
    client.wait_for_dag(ANALYSIS_DAG_ID)
    client.unpause(ANALYSIS_DAG_ID)
    # the same day once more: every store must still hold each record once; its load starts the
    # marts DAG again (the chain), and the run ends once that day's marts are exported
    _, second = trigger_run(stack, SPEC, client)
    run_to_success(stack, client, second)
    chained = [r for r in client.runs(MARTS_DAG_ID) if r["run_type"] == "asset_triggered"]
    assert len(chained) >= 2, "the loads did not start the marts DAG"
    for run in chained[:2]:
        final = client.wait_for_run(MARTS_DAG_ID, run["dag_run_id"], timeout=600)
        assert final["state"] == "success", f"the marts run {run['dag_run_id']} ended {final['state']}"
    analysis = wait_for_analysis(client)
    return {"client": client, "run_id": second, "truth": ground_truth(SPEC, stack), "analysis": analysis,
            "summary": client.xcom(DAG_ID, second, "summary"), "killed_at": killed_at,
            "first_tries": tries, "drive_again": client.xcom(DAG_ID, second, "collect_drive")}


def test_the_killed_collector_was_retried_and_the_rerun_sent_nothing(finished_run: dict) -> None:
    if finished_run["killed_at"] is not None:
        assert finished_run["first_tries"]["collect_drive"] >= 2
    rerun = finished_run["drive_again"]
    assert rerun["produced"] == 0 and rerun["files"][0]["already_collected"] is True


def test_raw_partitions_hold_each_record_once(stack: Settings, finished_run: dict) -> None:
    sinks.assert_raw_partitions_hold_each_record_once(stack, SPEC, finished_run["truth"])


def test_hbase_holds_every_driving_event_once(stack: Settings, finished_run: dict) -> None:
    sinks.assert_hbase_holds_every_event_once(stack, SPEC, finished_run["truth"])


def test_redis_alerts_equal_the_ground_truth(stack: Settings, finished_run: dict) -> None:
    sinks.assert_redis_alerts_equal_truth(stack, SPEC, finished_run["truth"])


def test_marts_answer_like_the_ground_truth(stack: Settings, finished_run: dict) -> None:
    from pyhive import hive

    cars = finished_run["truth"]["cars"]
    adults = {car for car, f in cars.items() if f["adult"]}
    conn = hive.connect(host=stack.hive_host, port=stack.hive_port, username=stack.hive_user)
    try:
        cur = conn.cursor()
        cur.execute("SELECT car_number, count(*) FROM default.managed_smartcar_status_info "
                    f"WHERE biz_date = '{SPEC.date}' GROUP BY car_number")
        assert dict(cur.fetchall()) == {car: cars[car]["status_records"] for car in adults}
        cur.execute("SELECT car_number, checks FROM default.managed_smartcar_emergency_check_info "
                    f"WHERE biz_date = '{SPEC.date}'")
        got = {car: set(checks.split(",")) if checks else set() for car, checks in cur.fetchall()}
        expected = {car: set(cars[car]["failed_checks"]) for car in adults if cars[car]["failed_checks"]}
        assert {c: {x.strip() for x in v} for c, v in got.items()} == expected
        cur.execute("SELECT car_number, sharp_turns FROM default.managed_smartcar_symptom_info "
                    f"WHERE biz_date = '{SPEC.date}'")
        assert dict(cur.fetchall()) == {car: cars[car]["sharp_turns"] for car in adults}
    finally:
        conn.close()


def test_postgres_has_the_exported_marts(stack: Settings, finished_run: dict) -> None:
    sinks.assert_postgres_has_the_marts(stack, SPEC, finished_run["truth"])


def test_summary_reports_every_stage(finished_run: dict) -> None:
    summary = finished_run["summary"]
    stages = summary["2. records per stage"]
    truth_totals = finished_run["truth"]["totals"]
    assert stages["simulated driving events"] == truth_totals["drive_records"]
    assert stages["driving events produced live"] == truth_totals["drive_records"]
    assert stages["status collected (produced / rejected)"] == f"{truth_totals['status_records']} / 0"
    assert set(summary["3. mart rows"]) == {
        "managed_smartcar_status_info", "managed_smartcar_drive_info", "managed_smartcar_symptom_info",
        "managed_smartcar_emergency_check_info", "managed_smartcar_item_buylist_info"}


def test_the_analysis_dag_ran_by_itself_after_the_marts(stack: Settings, finished_run: dict) -> None:
    from marts.hive import HiveSession

    runs = finished_run["analysis"]
    assert all(r["state"] == "success" for r in runs), runs
    built = [finished_run["client"].xcom(ANALYSIS_DAG_ID, r["dag_run_id"], "build_analysis_tables")
             for r in runs]
    assert any(SPEC.date in (b or {}) for b in built), built
    with HiveSession(stack) as hive:
        labelled = hive.scalar(
            f"SELECT count(*) FROM default.analysis_status_health WHERE biz_date = '{SPEC.date}'")
        records = hive.scalar(
            f"SELECT count(*) FROM default.managed_smartcar_status_info WHERE biz_date = '{SPEC.date}'")
    adults = [f for f in finished_run["truth"]["cars"].values() if f["adult"]]
    assert labelled == records == sum(f["status_records"] for f in adults) > 0
