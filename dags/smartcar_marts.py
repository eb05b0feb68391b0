"""Rebuild the five Hive marts of one business date and export them to PostgreSQL.

For a date whose raw data is already in HDFS (the batch loader ran): waits for the collection
partitions, builds status → emergency check and drive → symptom, the monthly purchase mart, each
with its data-quality gates, and exports every mart. Thin: the operators call the libraries.
"""

from __future__ import annotations

from airflow.sdk import Param, dag
from smartcar_plugins.operators import HdfsPartitionSensor, HiveMartOperator, MartExportOperator

from pilot.dag_defaults import DEFAULT_ARGS, START_DATE

DATE = "{{ params.date or logical_date | ds_nodash }}"
MARTS = ("managed_smartcar_status_info", "managed_smartcar_drive_info", "managed_smartcar_symptom_info",
         "managed_smartcar_emergency_check_info", "managed_smartcar_item_buylist_info")


@dag(
    dag_id="smartcar_marts",
    description="Hive marts of one business date, gated, exported to PostgreSQL",
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params={"date": Param("", type="string", pattern=r"^([0-9]{8})?$",
                          description="Business date yyyyMMdd; empty = the run's logical date")},
    tags=["smartcar", "marts"],
    doc_md=__doc__,
)
def smartcar_marts() -> None:
    status_input = HdfsPartitionSensor(
        task_id="wait_status_partition", path="/pilot-pjt/collect/car-batch-log/wrk_date=" + DATE,
        poke_interval=30, timeout=3600, mode="reschedule")
    drive_input = HdfsPartitionSensor(
        task_id="wait_drive_partition", path="/pilot-pjt/collect/drive-log/wrk_date=" + DATE,
        poke_interval=30, timeout=3600, mode="reschedule")
    built = {m: HiveMartOperator(task_id=f"build_{m}", mart=m, biz_date=DATE, pool="hive_sql")
             for m in MARTS}
    status_input >> [built["managed_smartcar_status_info"], built["managed_smartcar_item_buylist_info"]]
    drive_input >> built["managed_smartcar_drive_info"]
    built["managed_smartcar_status_info"] >> built["managed_smartcar_emergency_check_info"]
    built["managed_smartcar_drive_info"] >> built["managed_smartcar_symptom_info"]
    for mart, build in built.items():
        build >> MartExportOperator(task_id=f"export_{mart}", mart=mart, biz_date=DATE)


smartcar_marts()
