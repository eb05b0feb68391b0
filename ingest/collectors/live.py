"""The live producer: the simulator's driving events straight into ``SmartCar-Topic``.

Events come from :func:`ingest.simulator.iter_drive_chunks` (deterministic from the seed, in
time order, every car every ``drive_interval`` simulated seconds); key = car number, value = the
8-field line. Pacing: ``rate`` events/s (token bucket), or ``speedup`` x simulated time (the
original pilot's load, 100 cars x 10 events/s = 1,000 events/s, is ``--speedup 20`` with the
default 2-second interval), or as fast as possible. ``limit`` stops after that many events (the
first ``limit`` lines of the simulated day).

``processes`` > 1 splits the fleet: every process walks the same simulated stream and produces
the events of its share of the cars, so each car still comes from one producer, in order; pacing
and ``limit`` apply to the position in the shared stream, so the processes together keep the
rate and produce exactly the first ``limit`` events.

Exactly once: each share is a source of the collect ledger (:mod:`ingest.collectors.ledger`),
named by date, fleet size, seed and share. Its events go out in Kafka transactions of at most
``commit_records`` events or ``commit_seconds`` seconds, each recording the position in the
day's stream it reaches; a killed, retried or repeated run continues from there, and a day
produced completely is not produced again (``from_scratch`` does, on purpose).
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ingest.collectors.ledger import live_source
from ingest.collectors.pacing import SimulatedClock, TokenBucket, slice_size
from ingest.collectors.report import CollectReport
from ingest.collectors.transactions import TransactionalOutbox
from ingest.progress import Ticker
from ingest.simulator import SimulatorConfig, iter_drive_chunks, make_fleet
from ingest.simulator.fleet import MAX_CARS
from ingest.simulator.seeding import parse_date
from ingest.stopping import StopFlag, stop_on_signals
from pilot.errors import PilotError
from pilot.settings import Settings

log = logging.getLogger(__name__)

UNPACED_SLICE = 50_000  # events handed over at once when not paced
CAR_SLICE = slice(15, 20)  # the car number inside a simulator line


@dataclass(frozen=True)
class LiveOptions:
    date: str
    cars: int = 100
    seed: int = 42
    rate: float | None = None
    speedup: float | None = None
    limit: int | None = None
    processes: int = 1
    mode: str = "auto"
    progress_every: float = 5.0
    commit_records: int = 200_000  # a transaction holds at most this many events ...
    commit_seconds: float = 1.0  # ... and is committed at least this often (readers see it then)
    from_scratch: bool = False  # ignore the ledger: produce the day again from its first event
    kafka_wait: float = 300.0  # how long to wait for Kafka to come back before giving up
    config: SimulatorConfig = field(default_factory=SimulatorConfig)

    def __post_init__(self) -> None:
        try:
            parse_date(self.date)
        except ValueError as exc:
            raise PilotError(f"--date: {exc}") from None
        if not 1 <= self.cars <= MAX_CARS:
            raise PilotError(f"--cars must be 1..{MAX_CARS}, got {self.cars}")
        if self.rate and self.speedup:
            raise PilotError("give --rate or --speedup, not both")
        if (self.rate or 0) < 0 or (self.speedup or 0) < 0:
            raise PilotError("--rate and --speedup must not be negative")
        if self.limit is not None and self.limit < 0:
            raise PilotError(f"--limit must not be negative, got {self.limit}")
        if self.processes < 1:
            raise PilotError(f"--processes must be at least 1, got {self.processes}")

    @property
    def events_per_second(self) -> float | None:
        """The target rate, if paced (a speed-up is converted with the fleet's event density)."""
        if self.rate:
            return self.rate
        if self.speedup:
            return self.speedup * self.cars / self.config.drive_interval
        return None


class _Pacer:
    def __init__(self, opts: LiveOptions) -> None:
        self.bucket = TokenBucket(opts.rate) if opts.rate else None
        self.clock = SimulatedClock(opts.speedup) if opts.speedup else None
        self.cars = opts.cars
        self.interval = opts.config.drive_interval

    def delay(self, index: int, n: int) -> float:
        """Seconds to wait before the events ``index .. index+n-1`` of the day may go."""
        if self.bucket is not None:
            return self.bucket.reserve(n)
        if self.clock is not None:
            return self.clock.wait_for(index // self.cars * self.interval)
        return 0.0


def produce_share(
    settings: Settings, opts: LiveOptions, outbox: TransactionalOutbox, stop: StopFlag,
    worker: int = 0, workers: int = 1, counter: Callable[[int, int], None] | None = None,
) -> CollectReport:
    """Produce this worker's share of the simulated stream (all of it when ``workers`` is 1).

    ``outbox`` is the transactional outbox of this share's source: the share continues from the
    position of the day's stream its ledger entry holds, and every transaction records the
    position it reaches (so a kill, a retry or a rerun neither repeats nor skips an event).
    """
    report = CollectReport("live")
    fleet = make_fleet(opts.cars, opts.seed)
    topic = settings.topic_drive
    # with several processes each car belongs to one of them (round robin: even shares)
    owner = {car.encode(): i % workers for i, car in enumerate(fleet)} if workers > 1 else None
    state = _start_state(opts, None if opts.from_scratch else outbox.read_ledger(outbox.source))
    position = state["position"]
    report.files.append({"source": outbox.source, "resumed_at": position,
                         "already_collected": _finished(state, opts.limit)})
    report.files[0]["produced_in_total"] = state["produced"]
    if report.files[0]["already_collected"]:
        log.info("live: %s was produced already up to event %s: nothing to send", outbox.source,
                 f"{position:,}")
        return report.check()
    if position:
        log.info("live: %s resumes at event %s of the day", outbox.source, f"{position:,}")
    pacer = _Pacer(opts)
    step = min(slice_size(opts.events_per_second) or UNPACED_SLICE, opts.commit_records)
    ticker = Ticker(opts.progress_every if worker == 0 and workers == 1 else 0)
    started = time.monotonic()
    index = 0  # position in the day's stream of the chunk at hand
    reached = position  # every event before this one is sent (or belongs to another share)
    limit = opts.limit
    complete = True

    def commit(done: bool) -> None:
        state.update(position=reached, complete=done, produced=state["produced"] + outbox.open_records,
                     updated_at=time.time())
        outbox.commit(dict(state))

    for text, _ in iter_drive_chunks(fleet, opts.date, opts.seed, opts.config):
        lines = text.split(b"\n")
        lines.pop()
        if index + len(lines) <= position:  # sent by an earlier run
            index += len(lines)
            continue
        skip = max(0, position - index)
        if limit is not None:
            del lines[max(skip, limit - index):]
        for start in range(skip, len(lines), step):
            part = lines[start:start + step]
            wait = pacer.delay(index + start, len(part))
            if wait > 0 and stop.wait(wait):
                break
            if owner is not None:
                part = [line for line in part if owner[line[CAR_SLICE]] == worker]
            if part:
                outbox.submit({topic: [(line[CAR_SLICE], line) for line in part]})
                size = sum(map(len, part))
                report.read += len(part)
                report.produced += len(part)
                report.bytes_read += size
                if counter is not None:
                    counter(len(part), size)
            reached = index + min(start + step, len(lines))
            if outbox.open_records >= opts.commit_records or outbox.age() >= opts.commit_seconds:
                commit(False)
            if (tick := ticker.due(report.read)) is not None:
                _log_progress(report.read, report.bytes_read, tick.elapsed)
            if stop.is_set():
                break
        index += len(lines)
        if stop.is_set() or (limit is not None and index >= limit):
            complete = False
            break
    commit(complete)
    report.files[0]["produced_in_total"] = state["produced"]
    report.resent = outbox.resent
    report.seconds = time.monotonic() - started
    return report.check()


def _start_state(opts: LiveOptions, entry: dict[str, Any] | None) -> dict[str, Any]:
    fresh = {"date": opts.date, "cars": opts.cars, "seed": opts.seed, "position": 0, "complete": False,
             "produced": 0, "started_at": time.time()}
    return {**fresh, **(entry or {})}


def _finished(state: dict[str, Any], limit: int | None) -> bool:
    return bool(state["complete"]) or (limit is not None and state["position"] >= limit)


def _log_progress(events: int, size: int, elapsed: float) -> None:
    log.info("live: %s events, %s events/s, %.2f MB/s", f"{events:,}", f"{events / elapsed:,.0f}",
             size / 1e6 / elapsed)


def day_outbox(settings: Settings, opts: LiveOptions, worker: int = 0,
               workers: int = 1) -> TransactionalOutbox:
    source = live_source(opts.date, opts.cars, opts.seed, worker, workers)
    return TransactionalOutbox(settings, "the live producer", source, mode=opts.mode,
                               reconnect_timeout=opts.kafka_wait)


def run_live(settings: Settings, opts: LiveOptions, stop: StopFlag | None = None,
             outbox_factory: Callable[[], TransactionalOutbox] | None = None) -> CollectReport:
    """Run the live producer in this process, or in ``opts.processes`` worker processes."""
    stop = stop or StopFlag()
    if opts.processes == 1:
        with (outbox_factory() if outbox_factory else day_outbox(settings, opts)) as outbox:
            log.info("live: producing %s for %d cars (seed %d) to %s, send mode %s%s", opts.date,
                     opts.cars, opts.seed, settings.topic_drive, outbox.send_mode, _pace_text(opts))
            return produce_share(settings, opts, outbox, stop)
    return _run_processes(settings, opts, stop)


def _pace_text(opts: LiveOptions) -> str:
    if opts.rate:
        return f", paced at {opts.rate:,.0f} events/s"
    if opts.speedup:
        return f", {opts.speedup:g}x simulated time ({opts.events_per_second:,.0f} events/s)"
    return ", as fast as possible"


# ---- several producer processes ----------------------------------------------------------------
def _worker_main(settings: Settings, opts: LiveOptions, worker: int, workers: int, counters: Any,
                 stop_event: Any, results: Any, levels: tuple[int, int]) -> None:
    logging.basicConfig(level=levels[0], format=f"%(asctime)s %(levelname)s live[{worker}] %(message)s")
    logging.getLogger("kafka").setLevel(levels[1])

    def count(events: int, size: int) -> None:
        counters[2 * worker] += events
        counters[2 * worker + 1] += size

    # A signal to the whole process group (Ctrl-C, a supervisor's SIGTERM) reaches the workers too:
    # the first one stops every process after its current slice (the event is shared), a second
    # one aborts, as in the parent.
    with stop_on_signals(StopFlag(stop_event)) as stop, day_outbox(settings, opts, worker, workers) as outbox:
        try:
            report = produce_share(settings, opts, outbox, stop, worker, workers, count)
            results.put(("ok", worker, report.as_dict()))
        except BaseException as exc:
            results.put(("error", worker, f"{type(exc).__name__}: {exc}"))


def _run_processes(settings: Settings, opts: LiveOptions, stop: StopFlag) -> CollectReport:
    ctx = multiprocessing.get_context("spawn")
    workers = opts.processes
    counters = ctx.Array("q", 2 * workers, lock=False)
    stop_event = ctx.Event()
    results = ctx.Queue()
    levels = (logging.getLogger().getEffectiveLevel(), logging.getLogger("kafka").getEffectiveLevel())
    procs = [ctx.Process(target=_worker_main, name=f"pilot-live-{w}",
                         args=(settings, opts, w, workers, counters, stop_event, results, levels))
             for w in range(workers)]
    log.info("live: producing %s for %d cars (seed %d) to %s with %d processes%s", opts.date, opts.cars,
             opts.seed, settings.topic_drive, workers, _pace_text(opts))
    started = time.monotonic()
    for proc in procs:
        proc.start()
    ticker = Ticker(opts.progress_every)
    outcomes: dict[int, tuple[str, Any]] = {}
    try:
        while len(outcomes) < workers:
            if stop.is_set():
                stop_event.set()
            try:
                status, worker, payload = results.get(timeout=0.5)
                outcomes[worker] = (status, payload)
            except queue.Empty:
                if not any(p.is_alive() for p in procs) and results.empty():
                    break
            if (tick := ticker.due()) is not None:
                _log_progress(sum(counters[0::2]), sum(counters[1::2]), tick.elapsed)
    finally:
        if len(outcomes) < workers:
            stop_event.set()
        for proc in procs:
            proc.join(timeout=30)
    errors = [f"process {w}: {payload}" for w, (status, payload) in sorted(outcomes.items())
              if status != "ok"]
    missing = [w for w in range(workers) if w not in outcomes]
    if errors or missing:
        raise PilotError("live producer failed: " + "; ".join(
            errors + [f"process {w} died (exit code {procs[w].exitcode})" for w in missing]))
    report = CollectReport("live")
    for _, payload in outcomes.values():
        part = CollectReport("live", read=payload["read"], produced=payload["produced"],
                             rejected=payload["rejected"], bytes_read=payload["bytes"],
                             resent=payload["resent"], files=payload["files"])
        report.add(part)
    # production time of the slowest process; starting the processes is logged separately
    report.seconds = max(payload["seconds"] for _, payload in outcomes.values())
    log.info("live: %d processes done in %.1f s (%.1f s producing)", workers, time.monotonic() - started,
             report.seconds)
    return report.check()
