"""The end-to-end smart-car pipeline for one day: simulate → Kafka → HDFS/HBase/Redis, then the
marts DAG (Hive marts → PostgreSQL) and the analysis DAG, chained by Assets.

Runs by itself on its schedule (`pilot schedule`; default 01:00 UTC daily, for the day that ended)
once unpaused, or from the UI for a date and a fleet size (or `pilot demo`, `pilot backfill`).
Thin on purpose: each stage task runs one function of `orchestration.pipeline`. The batch load
publishes the day's partitions (Assets), which starts `smartcar_marts`; this run waits until the
marts of its day are exported, so a successful run means the whole day is in every store.
"""

from __future__ import annotations

from airflow.sdk import dag
from smartcar_plugins.tasks import plan_task, stage_task, summary_task, wait_for_marts_task

from orchestration.dag_defaults import DEFAULT_ARGS, RUN_TIMEOUT, run_params
from orchestration.schedule import current_schedule, timetable

RUN_DATE = "{{ ti.xcom_pull(task_ids='plan')['date'] }}"
SCHEDULE = current_schedule()  # var/schedule.json or the settings: a small local file, no connection


@dag(
    dag_id="smartcar_pilot",
    description="One simulated day of the fleet through Kafka, HDFS, HBase, Redis, Hive marts and PostgreSQL",
    schedule=timetable(SCHEDULE),
    start_date=None,  # with catchup off and no start date, unpausing waits for the next scheduled time
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=True,
    dagrun_timeout=RUN_TIMEOUT,
    default_args=DEFAULT_ARGS,
    params=run_params(SCHEDULE),
    tags=["smartcar", "end-to-end"],
    doc_md=__doc__,
)
def smartcar_pilot() -> None:
    run = plan_task()()
    sim, reference, status, drive, batch, realtime = (stage_task(name)(run) for name in (
        "simulate", "upload_reference", "collect_status", "collect_drive", "load_batch", "load_realtime"))
    sim >> [reference, status, drive]
    [status, drive, reference] >> batch
    drive >> realtime
    marts = wait_for_marts_task(RUN_DATE)
    batch >> marts
    summary_task()(run, {"collect_status": status, "collect_drive": drive, "load_batch": batch,
                         "load_realtime": realtime, "wait_for_marts": marts.output})


smartcar_pilot()
