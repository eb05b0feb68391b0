"""The pipeline's stages for one run (a business date, a fleet size, a seed), as plain functions.

Airflow tasks and `pilot demo` call these; each stage is idempotent on its partition and returns
a small JSON-able summary (what Airflow shows as the task's return value).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import shutil
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from pilot.dates import Day
from pilot.errors import InvalidInput, PilotError
from pilot.settings import Settings, get_settings

log = logging.getLogger(__name__)

MAX_CARS = 2600
STREAM_LOADER_ID = "stream-loader"  # the stream service's static member id starts so (stack.services.stream)


@dataclass(frozen=True)
class RunSpec:
    """What one pipeline run works on. The collection date (wrk_date) is the run's date."""

    date: str
    cars: int = 100
    seed: int = 42
    rate: float = 0.0
    day: Day = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "day", Day.parse(self.date))
        if not 1 <= int(self.cars) <= MAX_CARS:
            raise InvalidInput(f"cars must be 1..{MAX_CARS}, got {self.cars}")
        if int(self.seed) < 0:
            raise InvalidInput(f"seed must not be negative, got {self.seed}")
        if float(self.rate) < 0:
            raise InvalidInput(f"rate must not be negative, got {self.rate}")

    @property
    def month(self) -> str:
        return self.day.month.text

    def as_dict(self) -> dict[str, Any]:
        return {"date": self.date, "cars": self.cars, "seed": self.seed, "rate": self.rate}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSpec:
        return cls(date=str(data["date"]), cars=int(data["cars"]), seed=int(data["seed"]),
                   rate=float(data.get("rate") or 0))

    def work_dir(self, s: Settings) -> Path:
        return s.path("runs", f"{self.date}-c{self.cars}-s{self.seed}")

    def sim_dir(self, s: Settings) -> Path:
        return self.work_dir(s) / "sim"

    def spool_dir(self, s: Settings) -> Path:
        return self.work_dir(s) / "spool"


def plan_run(params: dict[str, Any], day_start: datetime | None = None) -> RunSpec:
    """The run's spec from the DAG params; an empty date means the day ``day_start`` falls on (the
    run's data interval start: for a scheduled run, the day that ended when it ran)."""
    date = str(params.get("date") or "")
    if not date:
        if day_start is None:
            raise InvalidInput("no date given and the run has no data interval; set the `date` param")
        date = day_start.strftime("%Y%m%d")
    return RunSpec(date=date, cars=int(params.get("cars", 100)), seed=int(params.get("seed", 42)),
                   rate=float(params.get("rate") or 0))


def plan(params: dict[str, Any], day_start: datetime | None = None) -> dict[str, Any]:
    """The first task of a run: the validated spec, as the JSON every later task receives."""
    from orchestration.budgets import check_fits

    spec = plan_run(params, day_start)
    check_fits(spec.cars, spec.rate)
    return spec.as_dict()


def simulate(spec: RunSpec, s: Settings | None = None) -> dict[str, Any]:
    """Reference files, the day's status log and driving log, and the ground truth (deterministic)."""
    from ingest.simulator import simulate_day

    s = s or get_settings()
    out = spec.sim_dir(s)
    result = simulate_day(out, spec.date, cars=spec.cars, seed=spec.seed, quiet=True, settings=s)
    return {"dir": str(out), **_jsonable(result)}


def find_ground_truth(day: Day | str, s: Settings | None = None) -> Path | None:
    """The simulator's ground truth of a business date from the newest run of that date, if any."""
    s = s or get_settings()
    text = Day.of(day).text
    found = sorted(s.path("runs").glob(f"{text}-c*-s*/sim/ground_truth_{text}.json"),
                   key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def ground_truth(spec: RunSpec, s: Settings | None = None) -> dict[str, Any]:
    import json

    s = s or get_settings()
    path = spec.sim_dir(s) / f"ground_truth_{spec.date}.json"
    if not path.is_file():
        raise PilotError(f"no ground truth at {path}; run the simulate stage first")
    return json.loads(path.read_text(encoding="utf-8"))


def collect_status(spec: RunSpec, s: Settings | None = None) -> dict[str, Any]:
    """Drop the day's status file into the run's spool dir (rename-in) and collect it.

    Exactly once per file content (the collector's ledger): a retry continues where the killed
    attempt's last transaction ended, and a rerun of the day finds the file collected already.
    """
    from ingest.collectors.connect import prepare_kafka
    from ingest.collectors.ledger import read_entry
    from ingest.collectors.spool import SpoolCollector, SpoolOptions
    from ingest.collectors.transactions import outboxes
    from ingest.records import read_known_cars

    s = s or get_settings()
    source = spec.sim_dir(s) / f"SmartCarStatusInfo_{spec.date}.txt"
    if not source.is_file():
        raise PilotError(f"no status file at {source}; run the simulate stage first")
    spool = spec.spool_dir(s)
    spool.mkdir(parents=True, exist_ok=True)
    part = spool / f"{source.name}.part"
    shutil.copyfile(source, part)
    part.replace(spool / source.name)
    prepare_kafka(s, "the status collector")
    opts = SpoolOptions(directory=spool, wrk_date=spec.date, once=True,
                        known_cars=read_known_cars(spec.sim_dir(s) / "CarMaster.txt"))
    report = SpoolCollector(s, opts, outboxes(s, "the status collector"), partial(read_entry, s)).run()
    return report.as_dict()


def collect_drive(spec: RunSpec, s: Settings | None = None) -> dict[str, Any]:
    """The simulator's driving events for the day, produced live into the driving topic.

    When the always-on stream service is producing this very day (same fleet and seed), the stage
    waits for it instead of producing a second copy; should the stream stop mid-day, the stage
    produces the rest (the collect ledger knows where the stream got to).
    """
    from ingest.collectors.connect import prepare_kafka
    from ingest.collectors.ledger import live_source, read_entry
    from ingest.collectors.live import LiveOptions, run_live
    from ingest.collectors.stream import wait_while_produced
    from orchestration.budgets import task_timeout

    s = s or get_settings()
    prepare_kafka(s, "the live producer")
    source = live_source(spec.date, spec.cars, spec.seed)
    # then the ledger says the day is complete (nothing left to send) or where to go on from
    wait_while_produced(partial(read_entry, s, source),
                        task_timeout("collect_drive", spec.cars).total_seconds() - 120)
    opts = LiveOptions(date=spec.date, cars=spec.cars, seed=spec.seed, rate=spec.rate or None)
    return run_live(s, opts).as_dict()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


def upload_reference(spec: RunSpec, s: Settings | None = None) -> dict[str, Any]:
    """The car master and the month's purchase list into their HDFS folders (overwrite)."""
    from ingest.loaders.reference import upload_reference as upload

    s = s or get_settings()
    uploaded = upload(s, spec.sim_dir(s))
    return {"uploaded": [{"local": u.local, "hdfs": u.hdfs, "bytes": u.bytes} for u in uploaded]}


def load_batch(spec: RunSpec, s: Settings | None = None) -> dict[str, Any]:
    """Bounded batch load: both topics up to the end offsets seen at start, into HDFS partitions."""
    from ingest.loaders.batch import BatchLoader, BatchOptions

    s = s or get_settings()
    report = BatchLoader(s, BatchOptions(bounded=True, service_timeout=600.0)).run()
    if not report.reconciles():
        raise PilotError(f"batch loader counts do not reconcile:\n{report.describe()}")
    log.info("batch loader:\n%s", report.describe())
    return {"topics": {t: c.as_dict() for t, c in report.topics.items()}, "files": report.files,
            "bytes": report.bytes, "seconds": round(report.seconds, 1)}


def load_realtime(spec: RunSpec, s: Settings | None = None) -> dict[str, Any]:
    """The driving topic into HBase and Redis, then proof that they hold the whole day.

    Without the stream service: a bounded run of the real-time loader up to the end offsets, whose
    counts must reconcile. With the stream service (its loader is a member of the consumer group),
    the day is not replayed: the stage waits until HBase holds as many rows of the day as the
    producer committed events and Redis has decided every car's windows (`ingest.loaders.day_check`).
    """
    from ingest.loaders.kafka_source import group_members
    from ingest.loaders.realtime import RealtimeLoader, RealtimeOptions
    from ingest.simulator import SimulatorConfig

    s = s or get_settings()
    options = RealtimeOptions(bounded=True, service_timeout=600.0)
    members = [m for m in group_members(s, options.group, s.topic_drive) if m.startswith(STREAM_LOADER_ID)]
    if members:
        log.info("the stream loader (%s) covers the day: checking HBase and Redis instead of replaying it",
                 ", ".join(members))
        return {"covered_by": "stream-loader", **day_in_stores(spec, s, options.group)}
    day = SimulatorConfig()
    events = spec.cars * (day.day_seconds // day.drive_interval)
    bulk = events >= s.realtime_bulk_min_events > 0
    bulk_load = None
    if bulk:
        from stack.services.hbase import table_bulk_loader

        bulk_load = table_bulk_loader(s)
        log.info("a day of %s driving events: HBase gets its rows by bulk load", f"{events:,}")
    report = RealtimeLoader(s, dataclasses.replace(options, bulk=bulk), bulk_load=bulk_load).run()
    if not report.counts.reconciles():
        raise PilotError(f"real-time loader counts do not reconcile:\n{report.describe()}")
    log.info("real-time loader:\n%s", report.describe())
    return {"counts": report.counts.as_dict(), "alerts": report.alerts, "bulk_load": bulk,
            "seconds": round(report.seconds, 1)}


def day_in_stores(spec: RunSpec, s: Settings, group: str, timeout: float | None = None) -> dict[str, Any]:
    """Wait until HBase and Redis hold the run's whole day as the producer's ledger counts it."""
    from ingest.collectors.ledger import live_source, read_entry
    from ingest.loaders.day_check import wait_for_day
    from ingest.loaders.stores import hbase_reader, redis_reader
    from ingest.simulator import make_fleet
    from orchestration.budgets import task_timeout

    entry = read_entry(s, live_source(spec.date, spec.cars, spec.seed))
    if not entry or not entry.get("complete"):
        raise PilotError(f"the collect ledger has no complete driving day {spec.date} for {spec.cars} cars "
                         f"(seed {spec.seed}); run the collect_drive stage first")
    if timeout is None:
        timeout = task_timeout("load_realtime", spec.cars).total_seconds() - 120
    fleet = make_fleet(spec.cars, spec.seed)
    with hbase_reader(s) as conn:
        state = wait_for_day(conn.table(s.hbase_table), redis_reader(s), group, fleet, spec.date,
                             int(entry["produced"]), s.overspeed_window_seconds, timeout)
    log.info("HBase and Redis hold day %s: %s", spec.date, state.as_dict())
    return {"counts": {"consumed": state.hbase_rows, "written": state.hbase_rows, "rejected": 0},
            "alerts": state.alerts, "check": state.as_dict()}


@contextlib.contextmanager
def spawn_safe_main() -> Iterator[None]:
    """Let `spawn` worker processes start inside an Airflow task.

    A spawned child re-runs the parent's main script; in an Airflow task that is the `airflow`
    command, whose start-up needs the metadata database that task processes are not given. A
    main module without a file (as in an interactive session) is not re-run.

    Under the CeleryExecutor the task process descends from a process of Celery's prefork pool
    (billiard) and inherits its daemon flag, with which `multiprocessing` refuses to start children
    at all, and billiard's authentication key, which `multiprocessing` cannot hand to a child. The
    task process waits for its children (the export's splits, the live collector's producers)
    before it returns, which is what the flag guards against: it is lifted meanwhile, and the
    process gets a key of `multiprocessing`'s own.
    """
    import multiprocessing
    import os

    real_main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    process = multiprocessing.current_process()
    config = process._config
    daemon = config.pop("daemon", None)
    authkey = config.get("authkey")
    if authkey is not None and type(authkey) is not multiprocessing.process.AuthenticationString:
        # set directly: in a billiard process, the property would wrap it in billiard's class again
        config["authkey"] = multiprocessing.process.AuthenticationString(os.urandom(32))
    try:
        yield
    finally:
        sys.modules["__main__"] = real_main
        if daemon is not None:
            config["daemon"] = daemon
        if authkey is not None:
            config["authkey"] = authkey


def summarize(spec: RunSpec, stages: dict[str, Any] | None = None,
              s: Settings | None = None, alerts: Any = None) -> dict[str, Any]:
    """What the run did, stage by stage, plus the headline answers (for the demo and the DAG).

    ``alerts`` is the Redis client of the overspeed alerts (default: one built from ``s``).
    """
    from export.queries import cars_needing_inspection
    from ingest.loaders.alerts import top_overspeed_cars

    s = s or get_settings()
    stages = stages or {}
    truth = ground_truth(spec, s)
    totals = truth.get("totals", {})
    summary: dict[str, Any] = {
        "1. run": {"date": spec.date, "cars": spec.cars, "seed": spec.seed},
        "2. records per stage": {
            "simulated status lines": totals.get("status_records"),
            "simulated driving events": totals.get("drive_records"),
        },
    }
    per_stage = summary["2. records per stage"]
    # the day's totals, whether this run or an earlier one of the same day collected them
    if "collect_status" in stages:
        c = stages["collect_status"]
        totals = [f["file_totals"] for f in c.get("files", []) if "file_totals" in f] or [c]
        per_stage["status collected (produced / rejected)"] = (
            f"{sum(t.get('produced', 0) for t in totals)} / {sum(t.get('rejected', 0) for t in totals)}")
        if any(f.get("already_collected") for f in c.get("files", [])):
            per_stage["status file collected by an earlier run of the day"] = True
    if "collect_drive" in stages:
        d = stages["collect_drive"]
        shares = d.get("files", [])
        per_stage["driving events produced live"] = (
            sum(f["produced_in_total"] for f in shares) if shares and all(
                "produced_in_total" in f for f in shares) else d.get("produced"))
        if any(f.get("already_collected") for f in shares):
            per_stage["driving day produced by an earlier run of the day"] = True
    if "load_batch" in stages:
        for topic, c in stages["load_batch"].get("topics", {}).items():
            per_stage[f"batch-loaded from {topic} (written / rejected)"] = f"{c['written']} / {c['rejected']}"
    if "load_realtime" in stages:
        c = stages["load_realtime"]["counts"]
        per_stage["real-time loaded to HBase (written / rejected)"] = f"{c['written']} / {c['rejected']}"
        per_stage["overspeed alerts written"] = stages["load_realtime"].get("alerts")
    if "wait_for_marts" in stages:  # the marts DAG built them; their rows as exported (and verified)
        summary["3. mart rows"] = dict(stages["wait_for_marts"])
    top = top_overspeed_cars(alerts or redis_client(s), spec.date)
    summary["4. top overspeed cars (30 s windows above the limit)"] = [
        f"{car}: {windows} window(s)" for car, windows in top]
    summary["5. cars needing inspection"] = [
        f"{car}: {checks}" for car, checks in cars_needing_inspection(s.postgres_dsn, spec.date)]
    return summary


def redis_client(s: Settings) -> Any:
    import redis

    return redis.Redis(host=s.redis_host, port=s.redis_port, password=s.redis_password, db=s.redis_db)


# The stages a DAG task runs with the run's spec (see `smartcar_plugins.tasks.stage_task`).
STAGES = {
    "simulate": simulate,
    "upload_reference": upload_reference,
    "collect_status": collect_status,
    "collect_drive": collect_drive,
    "load_batch": load_batch,
    "load_realtime": load_realtime,
}


def run_stage(name: str, run: dict[str, Any], s: Settings) -> dict[str, Any]:
    """Run one stage for the run whose spec (``plan``'s output) is ``run``."""
    return STAGES[name](RunSpec.from_dict(run), s)
