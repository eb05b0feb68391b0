"""Analysis of one business date's marts: the Hive analysis tables (DOMAIN "Analysis").

Runs by itself when the status and drive marts of a day are published (Airflow Assets; the
events name the date), or from the UI for a date. Thin: the operator calls `analysis`.
"""

from __future__ import annotations

from airflow.sdk import dag
from smartcar_plugins.tasks import analysis_schedule, analysis_tasks

from orchestration.dag_defaults import DATE_PARAM, DEFAULT_ARGS, RUN_TIMEOUT, START_DATE


@dag(
    dag_id="smartcar_analysis",
    description="Hive analysis tables of a business date, after its marts are published",
    schedule=analysis_schedule(),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=RUN_TIMEOUT,
    default_args=DEFAULT_ARGS,
    params={"date": DATE_PARAM},
    tags=["smartcar", "analysis"],
    doc_md=__doc__,
)
def smartcar_analysis() -> None:
    analysis_tasks()


smartcar_analysis()
