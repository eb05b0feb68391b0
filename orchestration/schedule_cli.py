"""`pilot schedule` (when the end-to-end DAG runs by itself) and `pilot backfill` (a range of days).

Backfilling runs the days one after another, oldest first: each day's run is triggered only after
the previous one succeeded, and a run ends only once its marts are exported, so no two runs ever
write the same partition at the same time. A failed day stops the backfill with the command that
resumes from it.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

from orchestration.pipeline import RunSpec
from orchestration.schedule import (
    OFF,
    Schedule,
    current_schedule,
    reset_schedule,
    save_schedule,
    schedule_file,
)
from pilot.dates import Day
from pilot.errors import InvalidInput
from pilot.settings import get_settings

MAX_BACKFILL_DAYS = 366


def _show(args: argparse.Namespace) -> int:
    s = get_settings()
    schedule = current_schedule(s)
    where = schedule_file(s) if schedule_file(s).exists() else "the settings (PILOT_SCHEDULE_*)"
    print(f"smartcar_pilot: {schedule.describe()}\n  from {where}")
    if schedule.enabled:
        print("  it runs only while the DAG is unpaused (toggle it in the Airflow UI)")
    return 0


def _set(args: argparse.Namespace) -> int:
    s = get_settings()
    now = current_schedule(s)
    schedule = Schedule(cron=args.cron, cars=args.cars if args.cars is not None else now.cars,
                        seed=args.seed if args.seed is not None else now.seed,
                        rate=args.rate if args.rate is not None else now.rate)
    path = save_schedule(schedule, s)
    print(f"smartcar_pilot: {schedule.describe()}\n  saved to {path}; the DAG processor picks it up "
          "when it next parses the DAG (within a minute)")
    return 0


def _off(args: argparse.Namespace) -> int:
    s = get_settings()
    schedule = dataclasses.replace(current_schedule(s), cron=OFF)
    save_schedule(schedule, s)
    print(f"smartcar_pilot: {schedule.describe()}")
    return 0


def _reset(args: argparse.Namespace) -> int:
    reset_schedule()
    print(f"smartcar_pilot: {current_schedule().describe()} (from the settings)")
    return 0


def days_between(first: str, last: str) -> list[Day]:
    start, end = Day.parse(first, "--from"), Day.parse(last, "--to")
    if end.date < start.date:
        raise InvalidInput(f"--to {end} is before --from {start}")
    days = [start.plus(i) for i in range((end.date - start.date).days + 1)]
    if len(days) > MAX_BACKFILL_DAYS:
        raise InvalidInput(f"{len(days)} days is more than one backfill runs ({MAX_BACKFILL_DAYS}); split it")
    return days


def _backfill(args: argparse.Namespace) -> int:
    from orchestration.airflow_api import AirflowClient
    from orchestration.demo import DAG_ID, report_failure, say, trigger_run

    s = get_settings()
    days = days_between(args.date_from, args.date_to)
    say(f"backfill of {DAG_ID}: {len(days)} day(s) {days[0]} .. {days[-1]}, {args.cars} cars, "
        f"seed {args.seed}, one day at a time, oldest first")
    client = AirflowClient(s)
    started = time.monotonic()
    for number, day in enumerate(days, 1):
        spec = RunSpec(date=day.text, cars=args.cars, seed=args.seed, rate=args.rate)
        client, run_id = trigger_run(s, spec, client)
        say(f"[{number}/{len(days)}] {day}: run {run_id}")
        run = client.wait_for_run(DAG_ID, run_id, timeout=args.timeout,
                                  progress=say if args.verbose else None)
        if run["state"] != "success":
            say(f"[{number}/{len(days)}] {day}: the run ended {run['state']}")
            report_failure(s, client, run_id)
            say(f"resume with: pilot backfill --from {day} --to {days[-1]} --cars {args.cars} "
                f"--seed {args.seed}")
            return 1
        say(f"[{number}/{len(days)}] {day}: done ({time.monotonic() - started:.0f} s so far)")
    say(f"backfill done: {len(days)} day(s) in {time.monotonic() - started:.0f} s")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("schedule", help="when the end-to-end DAG runs by itself (cron, UTC)")
    actions = p.add_subparsers(dest="schedule_command", required=True, metavar="ACTION")
    a = actions.add_parser("show", help="the schedule in force and where it comes from")
    a.set_defaults(func=_show)
    a = actions.add_parser("set", help="run at CRON (UTC) for the day that ended, with this fleet")
    a.add_argument("cron", help='five-field cron expression, e.g. "0 1 * * *" (01:00 UTC daily)')
    a.add_argument("--cars", type=int, help="fleet size of the scheduled runs")
    a.add_argument("--seed", type=int, help="simulator seed of the scheduled runs")
    a.add_argument("--rate", type=float, help="live events/s of the scheduled runs (0 = as fast as possible)")
    a.set_defaults(func=_set)
    a = actions.add_parser("off", help="no scheduled runs (manual triggers only)")
    a.set_defaults(func=_off)
    a = actions.add_parser("reset", help="back to the settings' schedule (PILOT_SCHEDULE_*)")
    a.set_defaults(func=_reset)

    p = sub.add_parser("backfill", help="run the end-to-end DAG for a range of days, in order, one at a time")
    p.add_argument("--from", dest="date_from", required=True, help="first business date yyyyMMdd")
    p.add_argument("--to", dest="date_to", required=True, help="last business date yyyyMMdd (inclusive)")
    p.add_argument("--cars", type=int, default=100, help="fleet size (default 100)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--rate", type=float, default=0, help="live events/s (default 0 = as fast as possible)")
    p.add_argument("--timeout", type=float, default=3600,
                   help="seconds one day's run may take (default 3600)")
    p.add_argument("-v", "--verbose", action="store_true", help="show each run's task states as they change")
    p.set_defaults(func=_backfill)
