"""The analysis DAG: scheduled on the published marts, dates taken from the triggering events."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags" / "smartcar_analysis.py"))
    assert bag.import_errors == {}
    return bag.dags["smartcar_analysis"]


def test_it_runs_when_the_status_and_drive_marts_are_published(dag) -> None:
    from airflow.sdk.definitions.asset import AssetAll

    condition = dag.timetable.asset_condition
    assert isinstance(condition, AssetAll)  # both marts, not either
    assert {a.uri for a in condition.objects} == {"hive://smartcar/default/managed_smartcar_status_info",
                                                  "hive://smartcar/default/managed_smartcar_drive_info"}
    assert dag.task_ids == ["build_analysis_tables"]
    assert dag.params["date"] == ""


def test_dates_come_from_the_triggering_events_oldest_first() -> None:
    from smartcar_plugins.operators import published_days

    def event(extra: dict) -> SimpleNamespace:
        return SimpleNamespace(extra=extra)

    context = {"triggering_asset_events": {
        "status": [event({"biz_date": "20200323"}), event({})],
        "drive": [event({"biz_date": "20200322"}), event({"biz_date": "20200323"})],
    }}
    assert [d.text for d in published_days(context)] == ["20200322", "20200323"]
    assert published_days({}) == []
