"""The end-to-end DAG's schedule (var/schedule.json or the settings) and the backfill's days."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from orchestration.pipeline import plan_run
from orchestration.schedule import (
    OFF,
    Schedule,
    current_schedule,
    reset_schedule,
    save_schedule,
    schedule_file,
    timetable,
)
from orchestration.schedule_cli import days_between
from pilot.errors import InvalidInput
from pilot.settings import load_settings


@pytest.fixture()
def settings(tmp_path):
    return load_settings(environ={"PILOT_VAR_DIR": str(tmp_path), "PILOT_SCHEDULE_CARS": "7"},
                         env_file=tmp_path / "none.env")


def test_the_settings_schedule_until_one_is_saved_then_back(settings) -> None:
    assert current_schedule(settings) == Schedule(cron="0 1 * * *", cars=7, seed=42)
    save_schedule(Schedule(cron="*/5 * * * *", cars=3, seed=9, rate=500), settings)
    assert json.loads(schedule_file(settings).read_text())["cron"] == "*/5 * * * *"
    assert current_schedule(settings) == Schedule(cron="*/5 * * * *", cars=3, seed=9, rate=500)
    reset_schedule(settings)
    assert current_schedule(settings).cron == "0 1 * * *"


@pytest.mark.parametrize("bad", [Schedule(cron="every day", cars=3, seed=1),
                                 Schedule(cron="0 1 * * *", cars=0, seed=1),
                                 Schedule(cron="0 1 * * *", cars=3, seed=-1)])
def test_a_bad_schedule_is_refused_and_nothing_is_saved(settings, bad: Schedule) -> None:
    with pytest.raises(InvalidInput):
        save_schedule(bad, settings)
    assert not schedule_file(settings).exists()


def test_a_damaged_file_falls_back_to_the_settings(settings) -> None:
    """The DAG processor reads the file at parse time: a broken one must not break the DAG."""
    schedule_file(settings).write_text('{"cron": "nonsense", "cars": 3, "seed": 1}')
    assert current_schedule(settings).cron == "0 1 * * *"


def test_off_means_no_timetable_and_on_means_one_day_intervals_without_an_immediate_run() -> None:
    assert timetable(Schedule(cron=OFF, cars=1, seed=1)) is None
    table = timetable(Schedule(cron="0 1 * * *", cars=1, seed=1))
    interval = table.infer_manual_data_interval(run_after=datetime(2026, 12, 4, 1, tzinfo=UTC))
    assert (interval.start, interval.end) == (datetime(2026, 12, 3, 1, tzinfo=UTC),
                                              datetime(2026, 12, 4, 1, tzinfo=UTC))
    assert table.serialize()["run_immediately"] is False


def test_a_scheduled_run_works_on_the_day_its_interval_starts() -> None:
    spec = plan_run({"cars": 3, "seed": 1}, datetime(2026, 12, 3, 1, tzinfo=UTC))
    assert spec.date == "20261203"
    assert plan_run({"date": "20200322", "cars": 3}, datetime(2026, 12, 3, tzinfo=UTC)).date == "20200322"


def test_backfill_days_are_every_day_of_the_range_in_order() -> None:
    assert [d.text for d in days_between("20200228", "20200302")] == [
        "20200228", "20200229", "20200301", "20200302"]
    assert [d.text for d in days_between("20200322", "20200322")] == ["20200322"]
    with pytest.raises(InvalidInput, match="before"):
        days_between("20200322", "20200321")
    with pytest.raises(InvalidInput, match="split"):
        days_between("20200101", "20220101")
