"""When the end-to-end DAG runs by itself: a cron time (UTC), for the day that ended at that time.

A scheduled run's business date is the start of its one-day data interval, so the 01:00 run of
4 December works on 3 December (Airflow's logical-date semantics). The schedule comes from
``var/schedule.json`` (written by `pilot schedule set`) or else the settings (PILOT_SCHEDULE_*). The
DAG processor reads it each time it parses the DAG file, so a new schedule takes effect within a
parse interval, without a restart. No catch-up: a DAG unpaused (or a stack started) after a missed
time waits for the next one, and a scheduler that was down runs only the latest missed day.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from pilot.errors import InvalidInput
from pilot.settings import Settings, get_settings

SCHEDULE_FILE = "schedule.json"
OFF = "off"


@dataclass(frozen=True)
class Schedule:
    cron: str  # a five-field cron expression in UTC, or "off"
    cars: int
    seed: int
    rate: float = 0.0

    @property
    def enabled(self) -> bool:
        return self.cron != OFF

    def describe(self) -> str:
        if not self.enabled:
            return "off: the end-to-end DAG runs only when triggered"
        pace = f", {self.rate:g} events/s" if self.rate else ""
        return (f"cron '{self.cron}' (UTC): each run works on the day before its time, "
                f"{self.cars} cars, seed {self.seed}{pace}")


def schedule_file(s: Settings) -> Path:
    return s.path(SCHEDULE_FILE)


def current_schedule(s: Settings | None = None) -> Schedule:
    """The saved schedule, or the settings' one. Cheap and offline: DAG files call it at parse time."""
    s = s or get_settings()
    path = schedule_file(s)
    if path.exists():
        try:
            saved = json.loads(path.read_text())
            return validated(Schedule(cron=str(saved["cron"]), cars=int(saved["cars"]),
                                      seed=int(saved["seed"]), rate=float(saved.get("rate", 0))))
        except (ValueError, KeyError, TypeError, InvalidInput):
            pass  # a damaged file must not break the DAG: fall back to the settings
    return validated(Schedule(cron=s.schedule_cron, cars=s.schedule_cars, seed=s.schedule_seed))


def validated(schedule: Schedule) -> Schedule:
    from orchestration.pipeline import MAX_CARS

    if not 1 <= schedule.cars <= MAX_CARS:
        raise InvalidInput(f"the schedule's fleet must be 1..{MAX_CARS} cars, not {schedule.cars}")
    if schedule.seed < 0 or schedule.rate < 0:
        raise InvalidInput("the schedule's seed and rate must not be negative")
    if schedule.enabled:
        timetable(schedule)
    return schedule


def save_schedule(schedule: Schedule, s: Settings | None = None) -> Path:
    """Write the schedule for the DAG processor (atomically: it may be parsing the DAG right now)."""
    s = s or get_settings()
    validated(schedule)
    path = schedule_file(s)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(schedule), indent=2) + "\n")
    tmp.replace(path)
    return path


def reset_schedule(s: Settings | None = None) -> None:
    schedule_file(s or get_settings()).unlink(missing_ok=True)


def timetable(schedule: Schedule) -> Any:
    """Airflow's timetable for the schedule (None when off): one-day data intervals ending at each
    cron time; ``run_immediately=False`` with no start date, so unpausing starts no run at once."""
    if not schedule.enabled:
        return None
    from airflow.exceptions import AirflowTimetableInvalid
    from airflow.timetables.trigger import CronTriggerTimetable

    try:
        table = CronTriggerTimetable(schedule.cron, timezone="UTC", interval=timedelta(days=1),
                                     run_immediately=False)
        table.validate()
    except (AirflowTimetableInvalid, ValueError, KeyError) as exc:
        raise InvalidInput(f"not a cron expression: {schedule.cron!r} ({exc})") from None
    return table
