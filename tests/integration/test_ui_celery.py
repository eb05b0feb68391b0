"""A person's path through the Airflow UI in headless Chromium, with Airflow scaled out on Celery.

Airflow is restarted with the CeleryExecutor for this module (task instances queued in the stack's
Redis, results kept in PostgreSQL, run by the two Celery workers a plain `pilot stack up` starts in
that mode; the data services stay up) and put back in LocalExecutor mode afterwards. Then, as a
person would: log in, trigger the end-to-end DAG with a date and fleet size, wait for success,
keep a screenshot of the finished run, and open the project's dashboard through its plugin link.
The day is checked store by store against the simulator's ground truth, and the task instances
name the worker that ran them: both workers took tasks. (One DAG run serves both checks: each
costs a day through the DAG, and CI time is short.)
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestration.airflow_api import AirflowClient
from orchestration.demo import DAG_ID, MARTS_DAG_ID, report_failure
from orchestration.pipeline import RunSpec, ground_truth
from pilot.settings import REPO_ROOT, Settings
from stack import manager, services
from tests.support import sinks
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser

SPEC = RunSpec(date="20200417", cars=3, seed=42)  # the UI form's default seed; a date only this module uses
AIRFLOW = [svc.name for svc in services.SERVICES if svc.name.startswith("airflow-")]
WORKERS = ("airflow-worker-1", "airflow-worker-2")


@pytest.fixture(scope="module")
def celery(stack: Settings) -> Iterator[Settings]:
    s = dataclasses.replace(stack, airflow_executor="CeleryExecutor")
    manager.down(stack, AIRFLOW)
    try:
        states = {st.name: st.state for st in manager.up(s)}  # a plain `pilot stack up` in Celery mode
        assert all(states.get(worker) == "up" for worker in WORKERS), states
        yield s
    finally:
        manager.down(s, AIRFLOW)
        manager.up(stack)


def _wait_for_new_run_of_date(client: AirflowClient, date: str, known: set[str], timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for run in client.runs(DAG_ID, limit=50):
            if run["dag_run_id"] not in known and (run.get("conf") or {}).get("date") == date:
                return run
        time.sleep(2)
    raise AssertionError(f"no run for {date} appeared within {timeout} s of triggering from the UI")


def test_trigger_from_the_ui_run_on_two_celery_workers_and_screenshot(celery: Settings) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed; run `make setup` (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    s = celery
    client = AirflowClient(s)
    for dag_id in (DAG_ID, MARTS_DAG_ID):  # the run waits for the marts its load starts
        client.wait_for_dag(dag_id)
        client.unpause(dag_id)
    known = {run["dag_run_id"] for run in client.runs(DAG_ID, limit=100)}  # an earlier session's
    shots = REPO_ROOT / "var" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 950})
        page.goto(f"{s.airflow_url}/")
        page.get_by_label("Username").fill(s.airflow_admin_user)
        page.get_by_label("Password").fill(s.airflow_admin_password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{s.airflow_url}/", timeout=30_000)

        page.goto(f"{s.airflow_url}/dags/{DAG_ID}")
        page.get_by_role("button", name="Trigger").first.click()
        dialog = page.get_by_role("dialog")
        dialog.locator("input[name='element_date']").fill(SPEC.date)
        dialog.locator("input[name='element_cars']").fill(str(SPEC.cars))
        dialog.get_by_role("button", name="Trigger").click()

        run = _wait_for_new_run_of_date(client, SPEC.date, known, timeout=60)
        run_id = run["dag_run_id"]
        final = client.wait_for_run(DAG_ID, run_id, timeout=900)
        if final["state"] != "success":
            report_failure(s, client, run_id)
        assert final["state"] == "success", f"the run triggered from the UI ended {final['state']}"
        assert (final["conf"]["cars"], final["conf"]["seed"]) == (SPEC.cars, SPEC.seed)

        page.goto(f"{s.airflow_url}/dags/{DAG_ID}/runs/{run_id}")
        page.get_by_text("success").first.wait_for(timeout=30_000)
        page.wait_for_timeout(1500)
        path = shots / f"smartcar_pilot_{SPEC.date}.png"
        page.screenshot(path=str(path), full_page=True)

        # the plugin link: the project's dashboard inside the Airflow UI
        page.goto(f"{s.airflow_url}/plugin/smartcar-dashboard")
        frame = page.frame_locator("iframe")
        frame.locator("h1", has_text="smart-car pilot").wait_for(timeout=30_000)
        assert page.locator("iframe").get_attribute("src") == f"{s.model_api_url}/dashboard"
        browser.close()
    assert path.stat().st_size > 10_000
    print(f"\nscreenshot of the finished run: {path}")

    truth = ground_truth(SPEC, s)
    sinks.assert_raw_partitions_hold_each_record_once(s, SPEC, truth)
    sinks.assert_hbase_holds_every_event_once(s, SPEC, truth)
    sinks.assert_redis_alerts_equal_truth(s, SPEC, truth)
    sinks.assert_postgres_has_the_marts(s, SPEC, truth)

    instances = client.task_instances(DAG_ID, run_id)
    for marts_run in client.runs(MARTS_DAG_ID, limit=20):
        if marts_run["run_type"] == "asset_triggered" and marts_run["state"] == "success":
            instances += client.task_instances(MARTS_DAG_ID, marts_run["dag_run_id"])
    ran_on = {str(ti.get("hostname") or "").split("@")[0] for ti in instances if ti["state"] == "success"}
    assert {"worker1", "worker2"} <= ran_on, f"the tasks ran on {sorted(ran_on)}, not on both workers"
