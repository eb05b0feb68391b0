"""A person's path through the Airflow UI in headless Chromium: log in, trigger the end-to-end
DAG with a date and fleet size, wait for success, keep a screenshot of the finished run, and
open the project's dashboard through its plugin link."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from orchestration.airflow_api import AirflowClient
from orchestration.demo import DAG_ID
from pilot.settings import REPO_ROOT, Settings

pytestmark = pytest.mark.browser

DATE = "20200412"
CARS = 2
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Chromium as root, in a closed network: no sandbox, no background calls home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _wait_for_run_of_date(client: AirflowClient, date: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = client._request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns?order_by=-start_date&limit=10")
        for run in runs.get("dag_runs", []):
            if (run.get("conf") or {}).get("date") == date:
                return run
        time.sleep(2)
    raise AssertionError(f"no run for {date} appeared within {timeout} s of triggering from the UI")


def test_trigger_from_the_ui_and_screenshot_the_finished_run(stack: Settings) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed; run `make setup` (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    client = AirflowClient(stack)
    client.wait_for_dag(DAG_ID)
    shots = REPO_ROOT / "var" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 950})
        page.goto(f"{stack.airflow_url}/")
        page.get_by_label("Username").fill(stack.airflow_admin_user)
        page.get_by_label("Password").fill(stack.airflow_admin_password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{stack.airflow_url}/", timeout=30_000)

        page.goto(f"{stack.airflow_url}/dags/{DAG_ID}")
        page.get_by_role("button", name="Trigger").first.click()
        dialog = page.get_by_role("dialog")
        dialog.locator("input[name='element_date']").fill(DATE)
        dialog.locator("input[name='element_cars']").fill(str(CARS))
        dialog.get_by_role("button", name="Trigger").click()

        run = _wait_for_run_of_date(client, DATE, timeout=60)
        run_id = run["dag_run_id"]
        final = client.wait_for_run(DAG_ID, run_id, timeout=900)
        assert final["state"] == "success", f"the run triggered from the UI ended {final['state']}"
        assert final["conf"]["cars"] == CARS

        page.goto(f"{stack.airflow_url}/dags/{DAG_ID}/runs/{run_id}")
        page.get_by_text("success").first.wait_for(timeout=30_000)
        page.wait_for_timeout(1500)
        path = shots / f"smartcar_pilot_{DATE}.png"
        page.screenshot(path=str(path), full_page=True)

        # the plugin link: the project's dashboard inside the Airflow UI
        page.goto(f"{stack.airflow_url}/plugin/smartcar-dashboard")
        frame = page.frame_locator("iframe")
        frame.locator("h1", has_text="smart-car pilot").wait_for(timeout=30_000)
        assert page.locator("iframe").get_attribute("src") == f"{stack.model_api_url}/dashboard"
        browser.close()
    assert path.stat().st_size > 10_000
    print(f"\nscreenshot of the finished run: {path}")
