from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orchestration.demo import format_summary
from orchestration.pipeline import RunSpec, plan_run
from pilot.errors import PilotError


def test_plan_takes_the_date_param_or_the_logical_date() -> None:
    assert plan_run({"date": "20200322", "cars": 5, "seed": 1}).date == "20200322"
    logical = datetime(2020, 4, 1, 0, 0, tzinfo=UTC)
    assert plan_run({"date": "", "cars": 5, "seed": 1}, logical).date == "20200401"
    with pytest.raises(PilotError, match="no date"):
        plan_run({"date": ""})


@pytest.mark.parametrize("bad", [{"date": "20200230"}, {"date": "2020032"}, {"date": "20200322", "cars": 0},
                                 {"date": "20200322", "cars": 2601}, {"date": "20200322", "seed": -1},
                                 {"date": "20200322'; DROP TABLE x; --"}])
def test_bad_run_parameters_are_rejected(bad: dict) -> None:
    with pytest.raises(PilotError):
        RunSpec(**bad)


def test_spec_round_trips_and_keeps_runs_apart(tmp_path) -> None:
    spec = RunSpec(date="20200322", cars=100, seed=42, rate=5000)
    assert RunSpec.from_dict(spec.as_dict()) == spec
    assert spec.month == "202003"

    class S:
        def path(self, *parts: str):
            return tmp_path.joinpath(*parts)

    assert spec.work_dir(S()) != RunSpec(date="20200322", cars=100, seed=7).work_dir(S())


def test_summary_sections_print_in_their_numbered_order() -> None:
    text = format_summary({"2. records per stage": {"a": 1}, "1. run": {"date": "20200322"},
                           "5. cars needing inspection": []})
    assert text.index("1. run") < text.index("2. records") < text.index("5. cars")
    assert "(none)" in text
