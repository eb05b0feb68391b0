"""The always-on driving stream: the live producer over one simulated day after another.

Each day is its own source of the collect ledger (date, fleet, seed), produced exactly once by
:func:`ingest.collectors.live.produce_share`: a restarted stream resumes inside the day it was
in, skips the days already produced (by itself, or by a pipeline run of that day), and goes on
with the next. ``days`` = 0 streams without end. Pacing restarts with every day, so a day takes
``86,400 / speedup`` seconds (or its events / ``rate``).

A heartbeat file (:mod:`ingest.heartbeat`) holds the day, its events so far and the totals, for
``pilot stream status`` and the service's readiness check.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from ingest.collectors.live import LiveOptions, day_outbox, produce_share
from ingest.collectors.report import CollectReport
from ingest.collectors.transactions import TransactionalOutbox
from ingest.heartbeat import Heartbeat
from ingest.stopping import StopFlag
from pilot.dates import Day
from pilot.errors import PilotError, ServiceUnavailable
from pilot.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamOptions:
    start: str
    days: int = 0  # 0: no end
    day_options: LiveOptions | None = None  # cars, seed, pacing; its date is replaced per day

    def __post_init__(self) -> None:
        Day.parse(self.start, "--date")
        if self.days < 0:
            raise PilotError(f"--days must not be negative, got {self.days}")

    def live(self, day: Day) -> LiveOptions:
        base = self.day_options or LiveOptions(date=day.text)
        return replace(base, date=day.text, limit=None, processes=1, from_scratch=False)


class _Progress:
    """What the heartbeat reports; updated by the producer's counter, read by the beating thread."""

    def __init__(self) -> None:
        self.facts: dict[str, Any] = {"day": None, "day_events": 0, "produced": 0, "days_done": 0}
        self.state = "starting"

    def count(self, events: int, _size: int) -> None:
        self.facts["day_events"] += events
        self.facts["produced"] += events


def run_stream(settings: Settings, opts: StreamOptions, stop: StopFlag, heartbeat: Heartbeat | None = None,
               outbox_factory: Callable[[Settings, LiveOptions], TransactionalOutbox] = day_outbox,
               ) -> CollectReport:
    """Produce the days from ``opts.start`` on until ``opts.days`` are done or ``stop`` is set."""
    heartbeat = heartbeat or Heartbeat(None)
    progress = _Progress()
    beating = threading.Thread(target=_keep_beating, args=(heartbeat, progress, stop), daemon=True,
                               name="stream-heartbeat")
    beating.start()
    total = CollectReport("live")
    day, done = Day.parse(opts.start, "--date"), 0
    started = time.monotonic()
    try:
        while not stop.is_set() and (opts.days == 0 or done < opts.days):
            live = opts.live(day)
            with outbox_factory(settings, live) as outbox:
                resumed = outbox.read_ledger(outbox.source) or {}
                progress.state = "running"
                progress.facts.update(day=day.text, day_events=int(resumed.get("produced", 0)))
                report = produce_share(settings, live, outbox, stop, counter=progress.count)
            entry = report.files[0]
            progress.facts["day_events"] = entry.get("produced_in_total", progress.facts["day_events"])
            total.add(report)
            if stop.is_set():
                break
            log.info("stream: day %s %s (%s events); next %s", day.text,
                     "was produced already" if entry.get("already_collected") else "produced",
                     f"{entry.get('produced_in_total', 0):,}", day.plus(1).text)
            done += 1
            progress.facts["days_done"] = done
            day = day.plus(1)
    finally:
        progress.state = "stopped"
        beating.join(timeout=heartbeat.every + 1)
        heartbeat.beat("stopped", force=True, **progress.facts)
    total.seconds = time.monotonic() - started
    return total.check()


def _keep_beating(heartbeat: Heartbeat, progress: _Progress, stop: StopFlag) -> None:
    while progress.state != "stopped":
        state = "draining" if stop.is_set() else progress.state
        heartbeat.beat(state, force=True, **progress.facts)
        time.sleep(heartbeat.every)


# ---- for the pipeline: is a stream producing this day? ------------------------------------------
FRESH_SECONDS = 60.0  # a ledger entry updated this recently belongs to a producer that is at work


def being_produced(entry: dict[str, Any] | None, now: float | None = None) -> bool:
    """Whether a producer (the stream service) is in the middle of the day this entry records."""
    if not entry or entry.get("complete"):
        return False
    return (now or time.time()) - float(entry.get("updated_at") or 0) < FRESH_SECONDS


def wait_while_produced(read: Callable[[], dict[str, Any] | None], timeout: float, poll: float = 5.0,
                        sleep: Callable[[float], None] = time.sleep) -> dict[str, Any] | None:
    """Wait while another producer makes progress on the day; its latest entry once it finished or
    went quiet (the caller then produces the rest itself, from the entry's position)."""
    started = time.monotonic()
    entry = read()
    while entry is not None and being_produced(entry):
        where = f"day {entry.get('date')} (event {int(entry.get('position', 0)):,})"
        if time.monotonic() - started > timeout:
            raise PilotError(
                f"the stream service is still producing {where} after {timeout:.0f} s; the run can go "
                "on once it has produced the day (clear the task then), or stop the stream "
                "(`pilot stream stop`) and the run produces the rest")
        log.info("the stream service is producing %s: waiting for it to finish", where)
        sleep(poll)
        try:
            entry = read()
        except ServiceUnavailable as exc:  # Kafka away for a moment: the stream waits for it too
            log.warning("could not read the collect ledger (%s); trying again", exc)
    return entry
