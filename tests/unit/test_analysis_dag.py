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


def test_it_runs_when_the_status_drive_and_purchase_marts_are_published(dag) -> None:
    from airflow.sdk.definitions.asset import AssetAll

    condition = dag.timetable.asset_condition
    assert isinstance(condition, AssetAll)  # every mart it reads, not any one
    uris = set()
    pending = list(condition.objects)
    while pending:  # (a & b) & c nests
        item = pending.pop()
        if isinstance(item, AssetAll):
            pending.extend(item.objects)
        else:
            uris.add(item.uri)
    assert uris == {"hive://smartcar/default/managed_smartcar_status_info",
                    "hive://smartcar/default/managed_smartcar_drive_info",
                    "hive://smartcar/default/managed_smartcar_symptom_info",
                    "hive://smartcar/default/managed_smartcar_item_buylist_info"}
    assert dag.params["date"] == ""


def test_the_jobs_follow_the_hive_tables_and_the_exports_follow_their_writers(dag) -> None:
    edges = {(up, task.task_id) for task in dag.tasks for up in task.upstream_task_ids}
    jobs = {"train_recommend", "train_classify", "train_cluster", "train_style"}
    assert {(("build_analysis_tables", job)) for job in jobs} <= edges
    assert ("train_recommend", "export_analysis_recommendations") in edges
    assert ("train_cluster", "export_analysis_car_clusters") in edges
    assert ("train_cluster", "export_analysis_cluster_profiles") in edges
    assert ("train_style", "export_analysis_style_features") in edges
    assert {(job, "export_analysis_model_metrics") for job in jobs} <= edges
    assert set(dag.task_ids) == {"build_analysis_tables", *jobs, "export_analysis_recommendations",
                                 "export_analysis_car_clusters", "export_analysis_cluster_profiles",
                                 "export_analysis_style_features",
                                 "export_analysis_model_metrics"}
    assert {dag.get_task(job).pool for job in jobs} == {"spark_jobs"}


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
