"""The dashboard in headless Chromium against the real stack.

It loads, draws its charts (a screenshot is kept), shows the numbers PostgreSQL and Redis hold for
a day the pipeline exported, and a burst of overspeed events produced into Kafka while the page is
open appears on it once the real-time loader has written the alerts (the same set pandas computes
from the burst). A store that answers 503 is shown as a readable message, not a broken page.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest

from ingest.kafka_io import make_producer
from orchestration.demo import DAG_ID, trigger_run
from orchestration.pipeline import RunSpec
from pilot.settings import REPO_ROOT, Settings
from tests.integration.conftest import loader_test_env
from tests.integration.test_load_bounded import pandas_alerts, redis_client, unique_date
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser

BURST_CARS = ("F0071", "F0072")  # car numbers run A0001..Z0100
BURST_SECONDS = 120  # event time: four 30 s windows per car, all above the limit


def _newest_exported_day(s: Settings) -> str | None:
    with contextlib.closing(psycopg2.connect(s.postgres_dsn)) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('public.pilot_export_log') IS NOT NULL")
        if not cur.fetchone()[0]:
            return None
        cur.execute("SELECT max(split_part(partition, '=', 2)) FROM public.pilot_export_log "
                    "WHERE mart = 'managed_smartcar_drive_info'")
        return cur.fetchone()[0]


@pytest.fixture(scope="module")
def exported_day(stack: Settings) -> str:
    """A day whose marts are in PostgreSQL: the newest one, or a small one run for this test."""
    day = _newest_exported_day(stack)
    if day is None:
        client, run_id = trigger_run(stack, RunSpec(date="20200413", cars=3, seed=5))
        assert client.wait_for_run(DAG_ID, run_id, timeout=900)["state"] == "success"
        day = _newest_exported_day(stack)
    assert day
    return day


def _postgres_facts(s: Settings, day: str) -> dict[str, Any]:
    """The page's day numbers, asked of PostgreSQL directly."""
    with contextlib.closing(psycopg2.connect(s.postgres_dsn)) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM public.smartcar_emergency_check_info "
                    "WHERE biz_date = to_date(%s, 'YYYYMMDD')", (day,))
        inspection = cur.fetchone()[0]
        cur.execute("SELECT count(*), count(*) FILTER (WHERE 'abnormal' IN (speed_pedal_symptom, "
                    "break_pedal_symptom, sharp_turn_symptom)) FROM public.smartcar_symptom_info "
                    "WHERE biz_date = to_date(%s, 'YYYYMMDD')", (day,))
        cars, drivers = cur.fetchone()
        cur.execute("SELECT area_number, avg(speed)::float8 FROM public.smartcar_drive_info "
                    "WHERE biz_date = to_date(%s, 'YYYYMMDD') GROUP BY 1 ORDER BY 1", (day,))
        speed = dict(cur.fetchall())
    return {"inspection": inspection, "symptom_cars": cars, "drivers": drivers, "speed": speed}


def _burst(day: str) -> list[str]:
    lines = []
    for car in BURST_CARS:
        for second in range(BURST_SECONDS):
            stamp = f"{day}10{second // 60:02d}{second % 60:02d}"
            lines.append(f"{stamp},{car},5,0,F,N,{118 + second % 5},F05")
    return lines


@pytest.fixture()
def live_loader(loader_stack: Settings) -> Iterator[Settings]:
    """The continuous real-time loader on the test topic (as the stream service runs it)."""
    env = {**os.environ, **loader_test_env()}
    proc = subprocess.Popen([str(REPO_ROOT / ".venv/bin/pilot"), "load", "realtime", "--group",
                             f"it-dashboard-{time.time_ns()}", "--idle-close-seconds", "1"],
                            env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        time.sleep(3)
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        yield loader_stack
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()


def _value(page: Any, element_id: str) -> str:
    return page.locator(f"#{element_id}").get_attribute("data-value") or ""


def test_the_dashboard_shows_the_stores_and_a_live_burst(stack: Settings, exported_day: str,
                                                         live_loader: Settings) -> None:
    from playwright.sync_api import sync_playwright

    base = f"{stack.model_api_url}/dashboard"
    facts = _postgres_facts(stack, exported_day)
    burst_day = unique_date()
    lines = _burst(burst_day)
    expected = pandas_alerts(lines, stack.overspeed_window_seconds, stack.overspeed_speed_kmh)
    assert len(expected) == len(BURST_CARS) * BURST_SECONDS // stack.overspeed_window_seconds
    redis = redis_client(stack)
    shots = REPO_ROOT / "var" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        offline: list[str] = []
        page.on("request", lambda r: None if r.url.startswith(stack.model_api_url) else offline.append(r.url))

        # the day the pipeline exported: the numbers are PostgreSQL's
        page.goto(f"{base}?date={exported_day}")
        page.wait_for_selector(f"body[data-day-loaded='{exported_day}']", timeout=30_000)
        assert _value(page, "inspection-count") == str(facts["inspection"])
        assert page.locator("#inspection tr").count() == facts["inspection"]
        assert (_value(page, "symptom-cars"), _value(page, "symptom-count")) == (
            str(facts["symptom_cars"]), str(facts["drivers"]))
        drawn = page.evaluate(
            "() => { const c = window.dashboardCharts['chart-speed'].data; "
            "return Object.fromEntries(c.labels.map((l, i) => [l, c.datasets[0].data[i]])); }")
        assert drawn and drawn == pytest.approx(facts["speed"], abs=0.006)  # drawn to 2 decimals
        page.wait_for_function(
            f"() => document.querySelector('#live-day').dataset.value === '{exported_day}'")
        assert int(_value(page, "alerts-total")) == redis.scard(exported_day)
        page.wait_for_timeout(500)
        page.screenshot(path=str(shots / f"dashboard_{exported_day}.png"), full_page=True)

        # a burst of overspeed events while the page of its day is open
        page.goto(f"{base}?date={burst_day}")
        page.wait_for_function("() => document.querySelector('#alerts-total').dataset.value === '0'")
        producer = make_producer(live_loader)
        sent = time.monotonic()
        for line in lines:
            producer.send(live_loader.topic_drive, key=line[15:20].encode(), value=line.encode())
        producer.flush()
        producer.close()
        page.wait_for_function(
            f"() => document.querySelector('#alerts-total').dataset.value === '{len(expected)}'",
            timeout=60_000)
        print(f"\nburst of {len(lines)} events -> {len(expected)} alerts on the page in "
              f"{time.monotonic() - sent:.1f} s")
        assert redis.smembers(burst_day) == expected  # what the page counts is what Redis holds
        shown = {page.locator("#recent-alerts tr").nth(i).get_attribute("data-alert")
                 for i in range(page.locator("#recent-alerts tr").count())}
        assert shown == expected
        assert _value(page, "alert-cars") == str(len(BURST_CARS))
        page.screenshot(path=str(shots / f"dashboard_burst_{burst_day}.png"), full_page=True)

        # a store that is down: the page says which and how to start it
        down = {"service": "Redis", "message": "Redis is not reachable at 127.0.0.1:6379: Connection "
                                               "refused. Is it running? start it with `pilot stack up`."}
        page.route("**/dashboard/api/live*", lambda route: route.fulfill(
            status=503, content_type="application/json", body=json.dumps(down)))
        box = page.locator(".error[data-panel='live']")
        box.wait_for(state="visible", timeout=10_000)
        assert "Redis is not reachable" in box.inner_text() and "pilot stack up" in box.inner_text()
        browser.close()
    assert not offline, f"the page fetched from elsewhere than the dashboard: {offline[:3]}"
    redis.delete(burst_day)
