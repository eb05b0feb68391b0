"""Triggering the end-to-end DAG twice for the same day works (Airflow keeps one run per logical date)."""

from __future__ import annotations

from typing import Any

import pytest

from orchestration.airflow_api import ApiConflict
from orchestration.demo import DAG_ID, trigger_run
from orchestration.pipeline import RunSpec
from pilot.settings import load_settings


class FakeAirflow:
    def __init__(self) -> None:
        self.runs: dict[str | None, str] = {}  # logical date -> run id
        self.calls: list[dict[str, Any]] = []
        self.unpaused: set[str] = set()

    def wait_for_dag(self, dag_id: str) -> None:
        assert dag_id in (DAG_ID, "smartcar_marts")

    def unpause(self, dag_id: str) -> None:
        self.unpaused.add(dag_id)

    def trigger(self, dag_id: str, conf: dict[str, Any], run_id: str | None = None,
                logical_date: str | None = None) -> dict[str, Any]:
        self.calls.append({"conf": conf, "logical_date": logical_date, "run_id": run_id})
        if logical_date is not None and logical_date in self.runs:
            raise ApiConflict("Airflow API POST .../dagRuns answered 409: Unique constraint violation")
        self.runs.setdefault(logical_date, run_id or "")
        return {"dag_run_id": run_id}


@pytest.fixture()
def settings(tmp_path):
    return load_settings(environ={"PILOT_VAR_DIR": str(tmp_path)}, env_file=tmp_path / "none.env")


def test_second_run_of_a_day_goes_without_a_logical_date(settings) -> None:
    fake = FakeAirflow()
    spec = RunSpec(date="20200322", cars=3, seed=1)
    _client, first = trigger_run(settings, spec, client=fake)  # type: ignore[arg-type]
    _client, second = trigger_run(settings, spec, client=fake)  # type: ignore[arg-type]
    assert fake.calls[0]["logical_date"] == "2020-03-22T00:00:00Z"
    assert fake.calls[1]["logical_date"] == "2020-03-22T00:00:00Z"
    assert fake.calls[2]["logical_date"] is None
    assert all(c["conf"]["date"] == "20200322" for c in fake.calls)  # the day comes from the params
    assert fake.runs[None] == second and fake.runs["2020-03-22T00:00:00Z"] == first
    assert fake.unpaused == {DAG_ID, "smartcar_marts"}  # the run waits for the marts its load starts
