"""Build the five Hive marts of a business date and export them to PostgreSQL.

Runs by itself when the batch loader publishes a day's status and driving partitions (Airflow
Assets; the events name the date, several dates are built oldest first), or from the UI for a
date whose raw data is in HDFS. Waits for the collection partitions, builds the marts of the
catalog in their dependency order, each with its data-quality gates, and exports every mart; the
published marts start the analysis DAG. Thin: the task factories and operators call the libraries.
"""

from __future__ import annotations

from airflow.sdk import dag
from smartcar_plugins.operators import DATE_TEMPLATE
from smartcar_plugins.tasks import mart_tasks, marts_schedule, partition_sensors

from orchestration.dag_defaults import DATE_PARAM, DEFAULT_ARGS, RUN_TIMEOUT, START_DATE


@dag(
    dag_id="smartcar_marts",
    description="Hive marts of one business date, gated, exported to PostgreSQL",
    schedule=marts_schedule(),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=False,  # it only runs after a load: part of the end-to-end chain
    dagrun_timeout=RUN_TIMEOUT,
    default_args=DEFAULT_ARGS,
    params={"date": DATE_PARAM},
    tags=["smartcar", "marts"],
    doc_md=__doc__,
)
def smartcar_marts() -> None:
    mart_tasks(DATE_TEMPLATE, partition_sensors(DATE_TEMPLATE))


smartcar_marts()
