"""The always-on stream's parts without services: the day-after-day producer (fake broker), the
supervisor's restart loop (real child processes), heartbeats and the stack's optional services."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest.collectors.ledger import live_source
from ingest.collectors.live import LiveOptions
from ingest.collectors.stream import StreamOptions, run_stream
from ingest.heartbeat import Heartbeat, read_heartbeat
from ingest.simulator import SimulatorConfig, iter_drive_events, make_fleet
from ingest.stopping import StopFlag
from pilot.errors import PilotError
from stack import services
from stack.supervise import backoff
from tests.unit.test_collectors_fakes import FakeBroker, settings, transactional_outbox

CONFIG = SimulatorConfig(day_seconds=300)


def _factory(broker: FakeBroker):  # a test helper
    def open_outbox(s, live: LiveOptions):
        return transactional_outbox(s, broker, live_source(live.date, live.cars, live.seed))

    return open_outbox


def test_stream_produces_one_day_after_another_exactly_once(tmp_path: Path) -> None:
    s = settings(tmp_path)
    broker = FakeBroker()
    day = LiveOptions(date="20200322", cars=4, seed=5, config=CONFIG)
    opts = StreamOptions(start="20200330", days=3, day_options=day)
    beat = tmp_path / "collector.json"
    report = run_stream(s, opts, StopFlag(), Heartbeat(beat, every=0.05), _factory(broker))
    fleet = make_fleet(4, 5)
    expected = [line for date in ("20200330", "20200331", "20200401")
                for line in iter_drive_events(fleet, date, 5, CONFIG)]
    assert [v.decode() for v in broker.values("drive")] == expected
    assert report.produced == len(expected)
    final = read_heartbeat(beat)
    assert final is not None
    assert (final["state"], final["days_done"], final["day"]) == ("stopped", 3, "20200401")
    # a restart finds the days in the ledger and sends nothing again
    again = run_stream(s, opts, StopFlag(), Heartbeat(None), _factory(broker))
    assert again.produced == 0
    assert len(broker.values("drive")) == len(expected)


def test_stream_options_are_checked() -> None:
    with pytest.raises(PilotError, match="--date"):
        StreamOptions(start="20200230")
    with pytest.raises(PilotError, match="--days"):
        StreamOptions(start="20200322", days=-1)


def test_backoff_doubles_after_quick_crashes_and_resets_after_a_stable_run() -> None:
    waits = [backoff(0, 1, 1, 30)]
    for _ in range(6):
        waits.append(backoff(waits[-1], 1, 1, 30))
    assert waits == [1, 2, 4, 8, 16, 30, 30]
    assert backoff(30, 120, 1, 30) == 1


def _supervise(tmp_path: Path, script: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "stack.supervise", "--name", "t", "--state",
                             str(tmp_path / "state.json"), "--first-backoff", "0.1", "--max-backoff", "0.2",
                             "--", sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[2],
                            start_new_session=True)


def test_supervisor_restarts_a_crashing_child_until_it_finishes(tmp_path: Path) -> None:
    counter = tmp_path / "runs"
    # crashes twice (exit 3), then finishes (exit 0): the supervisor restarts it and then exits 0
    script = (f"import pathlib,sys; p=pathlib.Path({str(counter)!r});"
              " n=int(p.read_text() if p.exists() else 0)+1; p.write_text(str(n));"
              " sys.exit(3 if n < 3 else 0)")
    proc = _supervise(tmp_path, script)
    assert proc.wait(timeout=30) == 0
    assert counter.read_text() == "3"
    state = json.loads((tmp_path / "state.json").read_text())
    assert (state["restarts"], state["last_exit"]) == (2, 0)
    assert [h["exit"] for h in state["history"]] == [3, 3]


def test_supervisor_stops_with_its_group_and_does_not_restart(tmp_path: Path) -> None:
    import os
    import signal

    started = tmp_path / "started"
    script = (f"import pathlib,signal,sys,time; pathlib.Path({str(started)!r}).write_text('x');"
              " signal.signal(signal.SIGTERM, lambda *a: sys.exit(0)); time.sleep(60)")
    proc = _supervise(tmp_path, script)
    deadline = time.monotonic() + 20
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGTERM)  # what `pilot stack down` does
    assert proc.wait(timeout=20) == 0
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["stopping"] and state["restarts"] == 0


def test_heartbeat_is_rate_limited_unless_forced(tmp_path: Path) -> None:
    path = tmp_path / "beat.json"
    beat = Heartbeat(path, every=60)
    beat.beat("running", n=1)
    beat.beat("running", n=2)
    assert read_heartbeat(path)["n"] == 1  # type: ignore[index]
    beat.beat("stopped", force=True, n=3)
    assert read_heartbeat(path)["state"] == "stopped"  # type: ignore[index]


def test_stream_services_are_optional_and_stop_producer_first() -> None:
    default = [svc.name for svc in services.SERVICES if not svc.optional]
    assert "stream-loader" not in default and "stream-collector" not in default
    assert services.expand(["stream"]) == ["stream-loader", "stream-collector"]
    order = [svc.name for svc in services.SERVICES]
    assert order.index("stream-loader") < order.index("stream-collector")  # stopped in reverse
    for name in services.expand(["stream"]):
        assert set(services.get(name).requires) <= set(order[:order.index(name)])


def test_stream_commands_follow_the_settings(tmp_path: Path) -> None:
    from stack.services import stream

    s = dataclasses.replace(settings(tmp_path), stream_date="20200401", stream_rate=500.0, stream_cars=7)
    command = stream.COLLECTOR_SERVICE.command(s)
    assert command[:3] == [sys.executable, "-m", "stack.supervise"]
    tail = command[command.index("--") + 1:]
    assert tail[3:10] == ["collect", "stream", "--date", "20200401", "--days", "0", "--cars"]
    assert "--rate" in tail and "--speedup" not in tail
    assert tail[-2:] == ["--status-file", str(stream.status_file(s, "stream-collector"))]
    assert "--instance-id" in stream.LOADER_SERVICE.command(s)


# ---- the pipeline's checks while the stream covers a day ------------------------------------------
class FakeTable:
    """happybase's scan over sorted row keys, with row_start/row_stop/limit (filters ignored)."""

    def __init__(self, keys: list[bytes]) -> None:
        self.keys = sorted(keys)

    def scan(self, row_start: bytes, row_stop: bytes, limit: int | None = None, **_: object):
        found = [(k, {}) for k in self.keys if row_start <= k < row_stop]
        return iter(found[:limit] if limit else found)


class FakeRedis:
    def __init__(self, closed: dict[str, str], alerts: int = 0) -> None:
        self.closed, self.alerts = closed, alerts

    def hgetall(self, _key: str) -> dict[str, str]:
        return dict(self.closed)

    def scard(self, _key: str) -> int:
        return self.alerts


def _keys(car: str, times: list[str]) -> list[bytes]:
    from ingest.loaders.hbase_keys import row_key

    return [row_key(car, ts) for ts in times]


DAY_KEYS = (_keys("A0001", ["20200322000000", "20200322101530", "20200322235958", "20200323000004"])
            + _keys("B0002", ["20200321235959", "20200322120000"]))


def test_the_day_is_complete_when_rows_match_and_every_cars_last_window_is_closed() -> None:
    from ingest.loaders.day_check import wait_for_day

    redis = FakeRedis({"A0001": "20200322235930", "B0002": "20200322120000"}, alerts=4)
    state = wait_for_day(FakeTable(DAY_KEYS), redis, "g", ["A0001", "B0002", "C0003"], "20200322", 4, 30,
                         timeout=5, sleep=lambda _: None)
    assert (state.hbase_rows, state.cars_with_events, state.alerts, state.complete) == (4, 2, 4, True)


@pytest.mark.parametrize(("closed", "expected", "message"), [
    ({"A0001": "20200322235900", "B0002": "20200322120000"}, 4, "1 car\\(s\\) with open windows"),
    ({"A0001": "20200322235930", "B0002": "20200322120000"}, 5, "HBase 4 of 5 rows"),
])
def test_an_incomplete_day_fails_with_what_is_missing(closed: dict[str, str], expected: int,
                                                      message: str) -> None:
    from ingest.loaders.day_check import wait_for_day

    with pytest.raises(PilotError, match=message):
        wait_for_day(FakeTable(DAY_KEYS), FakeRedis(closed), "g", ["A0001", "B0002"], "20200322",
                     expected, 30, timeout=0.2, poll=0.02)


def test_more_rows_than_produced_names_the_likely_cause() -> None:
    from ingest.loaders.day_check import wait_for_day

    closed = {"A0001": "20200322235930", "B0002": "20200322120000"}
    with pytest.raises(PilotError, match="another fleet or seed"):
        wait_for_day(FakeTable(DAY_KEYS), FakeRedis(closed), "g", ["A0001", "B0002"], "20200322", 3, 30,
                     timeout=5, sleep=lambda _: None)


def test_the_pipeline_waits_while_the_stream_makes_progress_then_takes_over() -> None:
    from ingest.collectors.stream import being_produced, wait_while_produced

    now = time.time()
    entries = iter([{"date": "20200322", "position": 10, "complete": False, "updated_at": now},
                    {"date": "20200322", "position": 20, "complete": False, "updated_at": now},
                    {"date": "20200322", "position": 30, "complete": True, "updated_at": now}])
    assert wait_while_produced(lambda: next(entries), timeout=60, sleep=lambda _: None)["complete"]
    quiet = {"date": "20200322", "position": 10, "complete": False, "updated_at": now - 600}
    assert not being_produced(quiet)  # a stopped stream: the run produces the rest itself
    assert wait_while_produced(lambda: quiet, timeout=60) is quiet
    assert wait_while_produced(lambda: None, timeout=60) is None
    busy = {"date": "20200322", "position": 10, "complete": False, "updated_at": now}
    with pytest.raises(PilotError, match="still producing day 20200322"):
        wait_while_produced(lambda: {**busy, "updated_at": time.time()}, timeout=0, sleep=lambda _: None)
