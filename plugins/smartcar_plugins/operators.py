"""Thin Airflow operators and a sensor over the project's libraries (Hive marts, export, HDFS).

They find the services through the Airflow connections (`smartcar_plugins.connections`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator, BaseSensorOperator

from smartcar_plugins.fail_fast import fail_fast_on_bad_input

DATE_TEMPLATE = "{{ params.date }}"  # empty: the dates the triggering Asset events name, or the logical date


class HiveMartOperator(BaseOperator):
    """Build one mart partition from its Hive SQL file in `sql/hive/marts/`, with its gates, for the
    run's business date or every date the Asset events that started the run published."""

    template_fields: Sequence[str] = ("biz_date",)
    ui_color = "#fdf0d5"

    def __init__(self, *, mart: str, biz_date: str = DATE_TEMPLATE, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mart = mart
        self.biz_date = biz_date

    def execute(self, context: Any) -> dict[str, Any]:
        from marts.runner import build_marts
        from smartcar_plugins.connections import connected_settings, hdfs_client, hive_session

        days = run_days(str(self.biz_date or ""), context)
        s = connected_settings()
        built: dict[str, Any] = {}
        with hive_session(s) as hive:
            for day in days:
                results = build_marts(day, [self.mart], settings=s, log=self.log.info, hive=hive,
                                      hdfs_client=hdfs_client())
                built[day.text] = {r.mart: {"partition": r.partition, "rows": r.rows, "gates": r.gates,
                                            "seconds": round(r.seconds, 1)} for r in results}
        publish_days(self.outlets, context, days)  # consumers (the analysis DAG) learn the days
        return built


def publish_days(outlets: Sequence[Any], context: Any, days: Sequence[Any]) -> None:
    """Name the published business dates in the task's Asset events (the newest as ``biz_date``)."""
    for asset in outlets:
        context["outlet_events"][asset].extra = {"biz_date": days[-1].text,
                                                 "biz_dates": [d.text for d in days]}


class HiveAnalysisOperator(BaseOperator):
    """Build the Hive analysis tables (`analysis.exploration`) of the run's business date, or, in
    a run started by mart Asset events, of every date those events published."""

    template_fields: Sequence[str] = ("biz_date",)
    ui_color = "#e8f5e9"

    def __init__(self, *, biz_date: str = "{{ params.date }}", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.biz_date = biz_date

    def execute(self, context: Any) -> dict[str, Any]:
        from analysis.exploration import build_explorations
        from smartcar_plugins.connections import connected_settings, hdfs_client, hive_session

        days = run_days(str(self.biz_date or ""), context)
        s = connected_settings()
        built: dict[str, Any] = {}
        with hive_session(s) as hive:
            for day in days:
                results = build_explorations(day, settings=s, log=self.log.info, hive=hive,
                                             hdfs_client=hdfs_client())
                built[day.text] = {r.mart: r.rows for r in results}
        return built


class SparkModelOperator(BaseOperator):
    """Train one Spark MLlib model (`analysis.training`: spark-submit) for the run's business date,
    or, in a run started by mart Asset events, for every date those events published."""

    template_fields: Sequence[str] = ("biz_date",)
    ui_color = "#fff3e0"

    def __init__(self, *, job: str, biz_date: str = "{{ params.date }}", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job = job
        self.biz_date = biz_date

    def execute(self, context: Any) -> dict[str, Any]:
        from analysis.training import NEEDS_TRUTH, run_job
        from orchestration.pipeline import find_ground_truth
        from smartcar_plugins.connections import connected_settings

        days = run_days(str(self.biz_date or ""), context)
        s = connected_settings()
        trained: dict[str, Any] = {}
        for day in days:
            truth = find_ground_truth(day, s) if self.job in NEEDS_TRUTH else None
            if self.job in NEEDS_TRUTH and truth is None:
                self.log.info("no simulator ground truth for %s (the %s job uses it)", day, self.job)
            trained[day.text] = run_job(self.job, day, s, truth=truth, log=self.log.info)
        return trained


def run_days(biz_date: str, context: Any) -> list[Any]:
    """The run's business date (the `date` param), or else the dates its Asset events name, or
    else (a manual run without a date) the day of its logical date."""
    from pilot.dates import Day
    from pilot.errors import InvalidInput

    with fail_fast_on_bad_input():
        days = [Day.parse(biz_date)] if biz_date else published_days(context)
        if not days and context.get("logical_date") is not None:
            days = [Day.parse(context["logical_date"].strftime("%Y%m%d"))]
        if not days:
            raise InvalidInput("no business date: set the `date` param (yyyyMMdd), or let Asset events "
                               "start the run")
    return days


def published_days(context: Any) -> list[Any]:
    """The business dates named by the Asset events that started this run, oldest first."""
    from pilot.dates import Day

    events = context.get("triggering_asset_events") or {}
    dates: set[str] = set()
    for batch in events.values():
        for event in batch:
            extra = event.extra or {}
            dates.update(str(d) for d in extra.get("biz_dates") or [])
            if extra.get("biz_date"):
                dates.add(str(extra["biz_date"]))
    return [Day.parse(date) for date in sorted(dates)]


class MartExportOperator(BaseOperator):
    """Export one mart partition to PostgreSQL as Sqoop export did (staged, swapped, verified)."""

    template_fields: Sequence[str] = ("biz_date", "target", "update_key")
    ui_color = "#e0f0ff"

    def __init__(self, *, mart: str, biz_date: str = DATE_TEMPLATE, target: str | None = None,
                 update_key: str | None = None, splits: int = 4, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mart = mart
        self.biz_date = biz_date
        self.target = target
        self.update_key = update_key
        self.splits = splits

    def execute(self, context: Any) -> dict[str, Any]:
        days = run_days(str(self.biz_date or ""), context)
        return {day.text: self.export_day(day) for day in days}

    def export_day(self, day: Any) -> dict[str, Any]:
        from export.plan import ExportRequest
        from export.runner import run_export
        from orchestration.pipeline import spawn_safe_main
        from smartcar_plugins.connections import connected_settings, hdfs_client

        with fail_fast_on_bad_input():
            table = exported_table(self.mart)
        request = ExportRequest(mart=table, biz_date=table.partition_of(day), target=self.target or None,
                                update_key=self.update_key or None, splits=self.splits)
        with spawn_safe_main():
            result = run_export(request, connected_settings(), log=self.log.info, hdfs_client=hdfs_client())
        return {"mart": result.mart, "target": result.target, "partition": result.partition,
                "mode": result.mode, "rows": result.rows, "checksum": str(result.checksum),
                "seconds": round(result.seconds, 1)}


class AnalysisExportOperator(MartExportOperator):
    """Export a table of the analysis for the run's date, or for every date the mart Asset events
    that started the run published."""


def exported_table(name: str) -> Any:
    """A mart (by name or alias), or a table of the analysis jobs, as the exporter's table definition."""
    from analysis.model_tables import MODEL_TABLES
    from marts.catalog import get_mart

    by_name = {t.name: t for t in MODEL_TABLES}
    return by_name[name] if name in by_name else get_mart(name)


class HdfsPartitionSensor(BaseSensorOperator):
    """Wait until an HDFS folder has a finished file: an input table's `wrk_date=` partition of the
    run's date (or of each date its Asset events name; give ``table``) or any folder (``path``)."""

    template_fields: Sequence[str] = ("path", "wrk_date")

    def __init__(self, *, table: str | None = None, wrk_date: str = DATE_TEMPLATE, path: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if (table is None) == (path is None):
            raise ValueError("HdfsPartitionSensor needs either table (with wrk_date) or path")
        self.table = table
        self.wrk_date = wrk_date
        self.path = path

    def partition_paths(self, context: Any) -> list[str]:
        from marts.config import MartConfig

        if self.path is not None:
            return [str(self.path)]
        folder = MartConfig.from_settings().input_dir(str(self.table))
        return [f"{folder}/wrk_date={day}" for day in run_days(str(self.wrk_date or ""), context)]

    def poke(self, context: Any) -> bool:
        from hdfs.util import HdfsError

        from smartcar_plugins.connections import hdfs_client

        client = hdfs_client()
        for path in self.partition_paths(context):
            try:
                names = client.list(path)
            except HdfsError:
                return False
            if not any(not n.startswith(("_", ".")) for n in names):
                return False
        return True


class MartsExportedSensor(BaseSensorOperator):
    """Wait until every mart of the run's date was exported to PostgreSQL after ``since`` (the time
    the batch load published the day, which starts the marts DAG); returns the exported rows."""

    template_fields: Sequence[str] = ("biz_date", "since")

    def __init__(self, *, biz_date: str, since: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.biz_date = biz_date
        self.since = since

    def poke(self, context: Any) -> Any:
        from datetime import datetime

        from airflow.sdk.bases.sensor import PokeReturnValue

        from export.log import exported_since
        from marts.catalog import MARTS
        from pilot.dates import Day
        from smartcar_plugins.connections import postgres_connection

        with fail_fast_on_bad_input():
            day = Day.parse(str(self.biz_date))
            since = datetime.fromisoformat(str(self.since))
        partitions = {m.name: f"{m.partition_column}={m.partition_of(day)}" for m in MARTS}
        with postgres_connection() as conn:
            done = exported_since(conn, partitions, since)
        missing = [m for m in partitions if m not in done]
        if missing:
            self.log.info("waiting for the marts DAG (smartcar_marts, started by the load's Asset "
                          "events; unpause it if it is paused) to export %s for %s", ", ".join(missing), day)
            return PokeReturnValue(is_done=False)
        return PokeReturnValue(is_done=True, xcom_value=done)
