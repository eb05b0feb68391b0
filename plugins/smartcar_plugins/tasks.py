"""Task factories, so that DAG files wire tasks without naming a stage's internals or a mart.

`mart_tasks` loops over the marts' catalog (name, upstream marts, inputs, partition kind) and is
the one place both DAGs get their build and export tasks from. `stage_task` runs one stage of
`orchestration.pipeline` for the run planned by `plan_task`. Every task finds the services
through the Airflow connections.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from airflow.sdk import Asset, task

from marts.catalog import INPUT_TABLES, LANDS_WITH, MARTS, PARTITIONED_INPUTS, Mart
from smartcar_plugins.operators import (
    AnalysisExportOperator,
    HdfsPartitionSensor,
    HiveAnalysisOperator,
    HiveMartOperator,
    MartExportOperator,
    MartsExportedSensor,
    SparkModelOperator,
)

HIVE_POOL = "hive_sql"  # the Hive endpoint is one Spark driver: one mart build at a time
SPARK_JOB_POOL = "spark_jobs"  # one Spark analysis job at a time next to the stack on a small machine

STAGE_OUTLETS = {
    "collect_status": [Asset("kafka://smartcar/smartcar-status")],
    "collect_drive": [Asset("kafka://smartcar/SmartCar-Topic")],
    "load_batch": [Asset("hdfs://smartcar/pilot-pjt/collect/car-batch-log"),
                   Asset("hdfs://smartcar/pilot-pjt/collect/drive-log")],
    "load_realtime": [Asset("hbase://smartcar/DriverCarInfo"), Asset("redis://smartcar/overspeed-alerts")],
}


BATCH_ASSETS = STAGE_OUTLETS["load_batch"]


def marts_schedule() -> Any:
    """The marts DAG runs once the batch loader published a day's status and driving partitions."""
    return BATCH_ASSETS[0] & BATCH_ASSETS[1]


def mart_asset(mart: Mart) -> Asset:
    return Asset(f"hive://smartcar/default/{mart.name}")


def analysis_schedule() -> Any:
    """The analysis DAG runs once the marts it reads (status, drive, symptom, purchases) are published."""
    by_name = {m.name: m for m in MARTS}
    return (mart_asset(by_name["managed_smartcar_status_info"])
            & mart_asset(by_name["managed_smartcar_drive_info"])
            & mart_asset(by_name["managed_smartcar_symptom_info"])
            & mart_asset(by_name["managed_smartcar_item_buylist_info"]))


def analysis_tasks() -> Any:
    """The Hive analysis tables, then the three Spark MLlib jobs, then the exports of their tables
    (recommendations, clusters, metrics), for the run's date or the dates the events name."""
    from analysis.model_tables import EXPORTED, WRITTEN_BY
    from analysis.training import JOBS

    explore = HiveAnalysisOperator(task_id="build_analysis_tables", pool=HIVE_POOL)
    jobs = {job: SparkModelOperator(task_id=f"train_{job}", job=job, pool=SPARK_JOB_POOL) for job in JOBS}
    for job in jobs.values():
        explore >> job
    for table in EXPORTED:
        export = AnalysisExportOperator(task_id=f"export_{table.name}", mart=table.name)
        for job in WRITTEN_BY[table.name]:
            jobs[job] >> export
    return explore


def mart_tasks(biz_date: str, inputs_ready: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """A build task (gated) and an export task per mart, in the catalog's dependency order.

    ``inputs_ready`` maps an input table to the task after which it is in HDFS; a build waits for
    the tasks of its inputs and for the builds of its upstream marts; its export follows it.
    """
    tasks: dict[str, tuple[Any, Any]] = {}
    for mart in MARTS:
        build = HiveMartOperator(task_id=f"build_{mart.name}", mart=mart.name, biz_date=biz_date,
                                 pool=HIVE_POOL, outlets=[mart_asset(mart)])
        for table in mart.inputs:
            if table in inputs_ready:
                inputs_ready[table] >> build
        for upstream in mart.upstream:
            tasks[upstream][0] >> build
        export = MartExportOperator(task_id=f"export_{mart.name}", mart=mart.name, biz_date=biz_date)
        build >> export
        tasks[mart.name] = (build, export)
    return tasks


def every_input(task: Any) -> dict[str, Any]:
    """Every input table ready after ``task`` (e.g. the batch load, which also uploads reference data)."""
    return dict.fromkeys(INPUT_TABLES, task)


def partition_sensors(wrk_date: str) -> dict[str, Any]:
    """One sensor per partitioned input table, waiting for its collection partition.

    An unpartitioned input that lands with a partitioned one (`LANDS_WITH`) maps to that sensor.
    """
    sensors = {table: HdfsPartitionSensor(
        task_id=f"wait_{table.removeprefix('smartcar_').removesuffix('_info')}_partition",
        table=table, wrk_date=wrk_date, poke_interval=30, timeout=3600, mode="reschedule")
        for table in PARTITIONED_INPUTS}
    return sensors | {table: sensors[partitioned] for table, partitioned in LANDS_WITH.items()}


def plan_task() -> Callable[..., Any]:
    @task(task_id="plan")
    def plan(**context: Any) -> dict[str, Any]:
        from orchestration.pipeline import plan
        from smartcar_plugins.fail_fast import fail_fast_on_bad_input

        with fail_fast_on_bad_input():
            return plan(context["params"], context.get("data_interval_start") or context.get("logical_date"))

    return plan


def stage_task(name: str) -> Callable[..., Any]:
    """The task that runs stage ``name`` of `orchestration.pipeline` for the planned run."""

    @task(task_id=name, outlets=STAGE_OUTLETS.get(name, []))
    def stage(run: dict[str, Any], **context: Any) -> dict[str, Any]:
        from datetime import UTC, datetime

        from orchestration.pipeline import run_stage, spawn_safe_main
        from smartcar_plugins.connections import connected_settings

        with spawn_safe_main():  # the live collector may start producer processes
            result = run_stage(name, run, connected_settings())
        for asset in STAGE_OUTLETS.get(name, []):  # the marts DAG learns which day to build
            context["outlet_events"][asset].extra = {"biz_date": run["date"]}
        return {**result, "published_at": datetime.now(UTC).isoformat()}

    return stage


def wait_for_marts_task(run_date: str) -> Any:
    """Wait until the marts DAG (started by the load's Asset events) exported the run's day."""
    return MartsExportedSensor(task_id="wait_for_marts", biz_date=run_date, mode="reschedule",
                               since="{{ ti.xcom_pull(task_ids='load_batch')['published_at'] }}",
                               poke_interval=15, timeout=6 * 3600)


def summary_task() -> Callable[..., Any]:
    @task(task_id="summary")
    def summary(run: dict[str, Any], stages: dict[str, Any]) -> dict[str, Any]:
        from orchestration.pipeline import RunSpec, summarize
        from smartcar_plugins.connections import connected_settings, redis_client

        return summarize(RunSpec.from_dict(run), stages, connected_settings(), alerts=redis_client())

    return summary
