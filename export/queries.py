"""Questions answered from the exported marts in PostgreSQL (the demo's and the DAG's summary)."""

from __future__ import annotations

import contextlib

import psycopg2
from psycopg2 import sql

from export.plan import default_target
from export.target import TargetName
from marts.catalog import get_mart
from pilot.dates import Day


def cars_needing_inspection(dsn: str, day: Day | str, limit: int = 20) -> list[tuple[str, str]]:
    """Cars of the exported emergency-check mart on ``day`` (yyyyMMdd) with their failed checks,
    most checks first; read from the mart's default export target."""
    date = Day.of(day, "biz date")
    target = TargetName.parse(default_target(get_mart("emergency")))
    statement = sql.SQL("SELECT car_number, checks FROM {} WHERE biz_date = to_date(%s, 'YYYYMMDD') "
                        "ORDER BY check_count DESC, car_number LIMIT %s").format(target.sql)
    with contextlib.closing(psycopg2.connect(dsn)) as conn, conn.cursor() as cur:
        cur.execute(statement, (date.text, limit))
        return [(car, checks) for car, checks in cur.fetchall()]
