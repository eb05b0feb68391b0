"""Rebuild the five Hive marts of one business date and export them to PostgreSQL.

For a date whose raw data is already in HDFS (the batch loader ran): waits for the collection
partitions, builds the marts of the catalog in their dependency order, each with its data-quality
gates, and exports every mart. Thin: the task factories and operators call the libraries.
"""

from __future__ import annotations

from airflow.sdk import dag
from smartcar_plugins.operators import DATE_TEMPLATE
from smartcar_plugins.tasks import mart_tasks, partition_sensors

from orchestration.dag_defaults import DATE_PARAM, DEFAULT_ARGS, RUN_TIMEOUT, START_DATE


@dag(
    dag_id="smartcar_marts",
    description="Hive marts of one business date, gated, exported to PostgreSQL",
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=RUN_TIMEOUT,
    default_args=DEFAULT_ARGS,
    params={"date": DATE_PARAM},
    tags=["smartcar", "marts"],
    doc_md=__doc__,
)
def smartcar_marts() -> None:
    mart_tasks(DATE_TEMPLATE, partition_sensors(DATE_TEMPLATE))


smartcar_marts()
