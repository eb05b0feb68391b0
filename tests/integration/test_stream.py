"""The always-on stream as supervised services on the real stack.

One simulated day of three cars streams at a fixed rate while the test kills the loader with
SIGKILL and restarts Kafka; meanwhile the pipeline's drive stage waits for the stream instead of
producing the day again. Afterwards HBase and Redis equal the simulator's ground truth (nothing
lost, nothing doubled), the pipeline's real-time stage accepts the day without replaying it, the
readers (`pilot alerts`, `pilot car`) show what the stores hold, and `pilot stream stop` drains.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from ingest.loaders.stores import hbase_reader, redis_reader
from ingest.simulator import iter_drive_events, make_fleet, simulate_day
from ingest.topics import ensure_topics
from orchestration import pipeline
from orchestration.pipeline import RunSpec
from pilot.settings import Settings
from stack import manager
from stack.services import hbase, stream
from tests.integration.test_collect import end_offsets, read_since
from tests.integration.test_load_bounded import unique_date
from tests.support import sinks
from tests.support.hbase import drop_table

pytestmark = pytest.mark.integration

STREAM_TEST_SETTINGS = {
    "topic_drive": "it-stream-drive",
    "topic_dlq": "it-stream-dlq",
    "hbase_table": "ItStreamDriverCarInfo",
}
CARS, RATE = 2, 4000.0  # 86,400 events: about 22 s of streaming


def _env(spec: RunSpec) -> dict[str, str]:
    values = {**STREAM_TEST_SETTINGS, "stream_date": spec.date, "stream_days": "1",
              "stream_cars": str(spec.cars), "stream_seed": str(spec.seed), "stream_rate": str(RATE)}
    return {f"PILOT_{k.upper()}": v for k, v in values.items()}


def _pilot(*argv: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "orchestration.cli", *argv], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=timeout, check=False)


def _until(condition: Any, timeout: float, what: str, step: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture(scope="module")
def streamed(stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    spec = RunSpec(date=unique_date(), cars=CARS, seed=int(time.time()) % 100_000)
    s = dataclasses.replace(stack, **STREAM_TEST_SETTINGS)
    ensure_topics(s)
    drop_table(s)
    hbase.bootstrap(s)
    env = _env(spec)
    facts_start = end_offsets(s, s.topic_drive)
    log = stream.COLLECTOR_SERVICE.log_file(s)
    log_start = log.stat().st_size if log.exists() else 0
    sim = tmp_path_factory.mktemp("stream-sim")
    simulate_day(sim, spec.date, cars=spec.cars, seed=spec.seed, quiet=True, settings=s)
    truth = json.loads((sim / f"ground_truth_{spec.date}.json").read_text())
    facts: dict[str, Any] = {"spec": spec, "s": s, "env": env, "truth": truth, "start": facts_start,
                             "log_start": log_start}
    started = _pilot("stream", "start", env=env)
    assert started.returncode == 0, started.stderr
    facts["start_output"] = started.stdout
    try:
        yield facts
    finally:
        _pilot("stream", "stop", env=env)
        drop_table(s)


def _heartbeat(s: Settings, name: str) -> dict[str, Any]:
    return stream.heartbeat(s, name) or {}


def test_the_stream_survives_a_killed_loader_and_a_kafka_restart(streamed: dict[str, Any]) -> None:
    s, spec, env = streamed["s"], streamed["spec"], streamed["env"]
    assert "stream-loader" in streamed["start_output"] and "running" in streamed["start_output"]
    fleet = make_fleet(spec.cars, spec.seed)

    # events reach HBase and Redis within seconds of the stream starting
    with hbase_reader(s) as conn:
        table = conn.table(s.hbase_table)
        _until(lambda: any(True for _ in table.scan(row_prefix=_prefix(fleet[0]), limit=1)), 20,
               "the first rows in HBase")
    latest = _until(lambda: redis_reader(s).hget(f"car:{fleet[0]}", "time"), 10, "the car's latest state")
    assert latest.startswith(spec.date)

    # the pipeline's drive stage, started now, waits for the stream instead of producing the day
    collected: dict[str, Any] = {}
    stage = threading.Thread(target=lambda: collected.update(pipeline.collect_drive(spec, s)))
    stage.start()

    # SIGKILL the loader process: its supervisor restarts it and it takes its partitions back
    supervisor = json.loads(stream.supervisor_file(s, stream.LOADER).read_text())
    os.kill(int(supervisor["child_pid"]), signal.SIGKILL)
    _until(lambda: json.loads(stream.supervisor_file(s, stream.LOADER).read_text()).get("restarts") == 1
           and json.loads(stream.supervisor_file(s, stream.LOADER).read_text()).get("child_pid"), 30,
           "the supervisor to restart the loader")
    _until(lambda: _heartbeat(s, stream.LOADER).get("consumed", 0) > 0, 60, "the restarted loader to consume")

    # Kafka goes away and comes back while both produce and consume
    manager.down(s, ["kafka"])
    time.sleep(3)
    manager.up(s, ["kafka"])

    _until(lambda: _heartbeat(s, stream.COLLECTOR).get("days_done") == 1, 240, "the stream to finish the day")
    stage.join(timeout=300)
    assert not stage.is_alive()
    (share,) = collected["files"]
    assert share["already_collected"], "the drive stage produced the day a second time"
    assert share["produced_in_total"] == truth_events(streamed["truth"])

    # the real-time stage sees the stream loader and checks the stores instead of replaying
    result = pipeline.load_realtime(spec, s)
    assert result["covered_by"] == "stream-loader"
    assert result["counts"]["written"] == truth_events(streamed["truth"])

    sinks.assert_hbase_holds_every_event_once(s, spec, streamed["truth"])
    sinks.assert_redis_alerts_equal_truth(s, spec, streamed["truth"])
    # HBase rows are idempotent, so check the topic itself: each event of the day once, none lost
    produced = Counter(r.value.decode() for r in read_since(s, streamed["start"]))
    assert produced == Counter(iter_drive_events(fleet, spec.date, spec.seed))
    with open(stream.COLLECTOR_SERVICE.log_file(s), "rb") as log:
        log.seek(streamed["log_start"])
        assert b"waiting for Kafka" in log.read(), "the collector did not notice the Kafka restart"

    status = _pilot("stream", "status", "--json", env=env)
    rows = {row["service"]: row for row in json.loads(status.stdout)}
    assert rows["stream-loader"]["state"] == "up" and rows["stream-loader"]["restarts"] >= 1
    assert rows["stream-collector"]["counts"]["days_done"] == 1


def truth_events(truth: dict[str, Any]) -> int:
    return int(truth["totals"]["drive_records"])


def _prefix(car: str) -> bytes:
    from ingest.loaders.hbase_keys import car_prefix

    return car_prefix(car)


def test_the_readers_show_what_the_stores_hold(streamed: dict[str, Any]) -> None:
    s, spec, env, truth = streamed["s"], streamed["spec"], streamed["env"], streamed["truth"]
    _until(lambda: (_heartbeat(s, stream.COLLECTOR).get("days_done") == 1
                    and _heartbeat(s, stream.LOADER).get("lag") == 0), 300, "the stream to be caught up")
    alerts = _pilot("alerts", "--date", spec.date, "--json", env=env)
    assert alerts.returncode == 0, alerts.stderr
    shown = {f"{a['car']}-{a['window_start']}" for a in map(json.loads, alerts.stdout.splitlines())}
    expected = {f"{car}-{w}" for car, facts in truth["cars"].items() for w in facts["overspeed_windows"]}
    assert shown == expected

    car = make_fleet(spec.cars, spec.seed)[1]
    shown_car = _pilot("car", car, "--last", "20", "--json", env=env)
    assert shown_car.returncode == 0, shown_car.stderr
    events = json.loads(shown_car.stdout)["events"]
    fleet = make_fleet(spec.cars, spec.seed)
    drives = iter_drive_events(fleet, spec.date, spec.seed)
    newest = [line for line in drives if line.split(",")[1] == car][-20:]
    assert [",".join(e.values()) for e in events] == list(reversed(newest))


def test_stop_drains_both_services_and_leaves_nothing_running(streamed: dict[str, Any]) -> None:
    s, env = streamed["s"], streamed["env"]
    stopped = _pilot("stream", "stop", env=env)
    assert stopped.returncode == 0, stopped.stderr
    assert "stream-loader" in stopped.stdout  # the collector finished its one day by itself
    for name in (stream.COLLECTOR, stream.LOADER):
        assert manager.status(s, [name])[0].state == "off"
        assert _heartbeat(s, name).get("state") == "stopped"
    status = _pilot("stream", "status", env=env)
    assert status.returncode == 0  # off is not a failure
    supervisor = json.loads(stream.supervisor_file(s, stream.LOADER).read_text())
    assert supervisor["stopping"] and supervisor["last_exit"] == 0  # drained and exited cleanly
