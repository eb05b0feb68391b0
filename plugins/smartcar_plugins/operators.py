"""Thin Airflow operators and a sensor over the project's libraries (Hive marts, export, HDFS)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator, BaseSensorOperator


class HiveMartOperator(BaseOperator):
    """Build one mart partition from its Hive SQL file in `sql/hive/marts/`, with its gates."""

    template_fields: Sequence[str] = ("biz_date",)
    ui_color = "#fdf0d5"

    def __init__(self, *, mart: str, biz_date: str = "{{ params.date or logical_date | ds_nodash }}",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mart = mart
        self.biz_date = biz_date

    def execute(self, context: Any) -> dict[str, Any]:
        from marts.runner import build_marts

        results = build_marts(str(self.biz_date), [self.mart], log=self.log.info)
        return {r.mart: {"partition": r.partition, "rows": r.rows, "gates": r.gates} for r in results}


class MartExportOperator(BaseOperator):
    """Export one mart partition to PostgreSQL as Sqoop export did (staged, swapped, verified)."""

    template_fields: Sequence[str] = ("biz_date", "target", "update_key")
    ui_color = "#e0f0ff"

    def __init__(self, *, mart: str, biz_date: str = "{{ params.date or logical_date | ds_nodash }}",
                 target: str | None = None, update_key: str | None = None, splits: int = 4,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mart = mart
        self.biz_date = biz_date
        self.target = target
        self.update_key = update_key
        self.splits = splits

    def execute(self, context: Any) -> dict[str, Any]:
        from export.plan import ExportRequest
        from export.runner import run_export
        from marts.catalog import get_mart
        from pilot.pipeline import spawn_safe_main

        date = str(self.biz_date)
        partition = date[:6] if get_mart(self.mart).monthly else date
        request = ExportRequest(mart=self.mart, biz_date=partition, target=self.target or None,
                                update_key=self.update_key or None, splits=self.splits)
        with spawn_safe_main():
            result = run_export(request, log=self.log.info)
        return {"target": result.target, "partition": result.partition, "rows": result.rows}


class HdfsPartitionSensor(BaseSensorOperator):
    """Wait until an HDFS folder (e.g. a `wrk_date=` partition the batch loader writes) has a file."""

    template_fields: Sequence[str] = ("path",)

    def __init__(self, *, path: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.path = path

    def poke(self, context: Any) -> bool:
        from hdfs import InsecureClient
        from hdfs.util import HdfsError

        from pilot.settings import get_settings

        s = get_settings()
        client = InsecureClient(s.webhdfs_url, user=s.hdfs_user)
        try:
            names = client.list(str(self.path))
        except HdfsError:
            return False
        return any(not n.startswith(("_", ".")) for n in names)
