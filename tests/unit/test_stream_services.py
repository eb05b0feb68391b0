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
