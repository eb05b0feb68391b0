"""The end-to-end smart-car pipeline for one day: simulate → Kafka → HDFS/HBase/Redis → marts → PostgreSQL.

Thin on purpose: each stage task runs one function of `orchestration.pipeline`, and the mart
build and export tasks come from the marts' catalog. Trigger it from the UI with a date and a
fleet size (or `pilot demo`).
"""

from __future__ import annotations

from airflow.sdk import dag
from smartcar_plugins.tasks import every_input, mart_tasks, plan_task, stage_task, summary_task

from orchestration.dag_defaults import DEFAULT_ARGS, RUN_PARAMS, RUN_TIMEOUT, START_DATE

RUN_DATE = "{{ ti.xcom_pull(task_ids='plan')['date'] }}"


@dag(
    dag_id="smartcar_pilot",
    description="One simulated day of the fleet through Kafka, HDFS, HBase, Redis, Hive marts and PostgreSQL",
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=RUN_TIMEOUT,
    default_args=DEFAULT_ARGS,
    params=RUN_PARAMS,
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
    marts = mart_tasks(RUN_DATE, every_input(batch))
    stages = {"collect_status": status, "collect_drive": drive, "load_batch": batch,
              "load_realtime": realtime}
    for build, export in marts.values():
        run >> [build, export]  # they read the run's date from the plan's XCom
        stages[build.task_id], stages[export.task_id] = build.output, export.output
    summary_task()(run, stages)


smartcar_pilot()
