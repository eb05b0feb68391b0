"""The per-day panels, from the marts and analysis tables exported to PostgreSQL.

One short query per panel over the day's partition (the tables are LIST-partitioned on biz_date),
never Hive. A table that was not exported yet (the analysis runs after the marts) gives ``None``
for its panel, which the page shows as "not yet".
"""

from __future__ import annotations

from typing import Any

from psycopg2 import sql

from analysis.model_tables import CLUSTER_PROFILES, RECOMMENDATIONS
from export.log import LOG_TABLE
from export.plan import default_target
from marts.catalog import get_mart
from pilot.dates import Day


def _table(mart: Any) -> sql.Identifier:
    schema, table = default_target(mart).split(".")
    return sql.Identifier(schema, table)


DRIVE = get_mart("drive")
CHECKS = get_mart("emergency")
SYMPTOMS = get_mart("symptom")
CHECK_COLUMNS = {"Tire Check": "tire_check", "Light Check": "light_check", "Engine Check": "engine_check",
                 "Brake Check": "brake_check", "Battery Check": "battery_check"}
SYMPTOM_COLUMNS = {"accelerator": "speed_pedal_symptom", "brake": "break_pedal_symptom",
                   "sharp turns": "sharp_turn_symptom"}


def _exists(cur: Any, table: sql.Identifier) -> bool:
    cur.execute("SELECT to_regclass(%s) IS NOT NULL", (table.as_string(cur),))
    return bool(cur.fetchone()[0])


def exported_days(conn: Any) -> list[str]:
    """The business dates whose drive mart was exported (from the export log), oldest first."""
    with conn.cursor() as cur:
        if not _exists(cur, LOG_TABLE):
            return []
        cur.execute(sql.SQL("SELECT partition FROM {} WHERE mart = %s").format(LOG_TABLE), (DRIVE.name,))
        return sorted(p.split("=", 1)[1] for (p,) in cur.fetchall())


def day_view(conn: Any, day: Day) -> dict[str, Any]:
    """Every per-day panel of ``day``."""
    date = day.iso
    view: dict[str, Any] = {"day": day.text, "exported": day.text in exported_days(conn)}
    with conn.cursor() as cur:
        view["speed_per_area"] = _speed_per_area(cur, date)
        view["inspection"] = _inspection(cur, date)
        view["symptoms"] = _symptoms(cur, date)
        view["recommendations"] = _recommendations(cur, date)
        view["clusters"] = _clusters(cur, date)
    return view


def _speed_per_area(cur: Any, date: str) -> list[dict[str, Any]] | None:
    table = _table(DRIVE)
    if not _exists(cur, table):
        return None
    cur.execute(sql.SQL("SELECT area_number, avg(speed)::float8, count(*) FROM {} WHERE biz_date = %s "
                        "GROUP BY area_number ORDER BY area_number").format(table), (date,))
    return [{"area": area, "avg_speed": round(avg, 2), "events": n} for area, avg, n in cur.fetchall()]


def _inspection(cur: Any, date: str) -> dict[str, Any] | None:
    table = _table(CHECKS)
    if not _exists(cur, table):
        return None
    flags = sql.SQL(", ").join(sql.Identifier(c) for c in CHECK_COLUMNS.values())
    cur.execute(sql.SQL("SELECT car_number, {} FROM {} WHERE biz_date = %s ORDER BY check_count DESC, "
                        "car_number").format(flags, table), (date,))
    cars = [{"car": row[0], "checks": [label for label, flag in zip(CHECK_COLUMNS, row[1:], strict=True)
                                       if flag]} for row in cur.fetchall()]
    per_check = {label: sum(label in c["checks"] for c in cars) for label in CHECK_COLUMNS}
    return {"cars": cars, "per_check": per_check}


def _symptoms(cur: Any, date: str) -> dict[str, Any] | None:
    table = _table(SYMPTOMS)
    if not _exists(cur, table):
        return None
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in SYMPTOM_COLUMNS.values())
    cur.execute(sql.SQL("SELECT car_number, speed_pedal_z::float8, break_pedal_z::float8, "
                        "sharp_turn_share::float8, {} FROM {} WHERE biz_date = %s ORDER BY car_number")
                .format(columns, table), (date,))
    rows = cur.fetchall()
    drivers = []
    for car, accel_z, brake_z, share, *flags in rows:
        kinds = [kind for kind, flag in zip(SYMPTOM_COLUMNS, flags, strict=True) if flag == "abnormal"]
        if kinds:
            drivers.append({"car": car, "symptoms": kinds, "accelerator_z": accel_z, "brake_z": brake_z,
                            "sharp_turn_share": share})
    per_symptom = {kind: sum(kind in d["symptoms"] for d in drivers) for kind in SYMPTOM_COLUMNS}
    return {"cars": len(rows), "drivers": drivers, "per_symptom": per_symptom}


def _recommendations(cur: Any, date: str) -> list[dict[str, Any]] | None:
    table = _table(RECOMMENDATIONS)
    if not _exists(cur, table):
        return None
    cur.execute(sql.SQL("SELECT car_number, rank, item FROM {} WHERE biz_date = %s ORDER BY car_number, rank")
                .format(table), (date,))
    per_car: dict[str, list[str]] = {}
    for car, _rank, item in cur.fetchall():
        per_car.setdefault(car, []).append(item)
    return [{"car": car, "items": items} for car, items in per_car.items()] or None


def _clusters(cur: Any, date: str) -> list[dict[str, Any]] | None:
    table = _table(CLUSTER_PROFILES)
    if not _exists(cur, table):
        return None
    cur.execute(sql.SQL("SELECT cluster, cars, description FROM {} WHERE biz_date = %s ORDER BY cluster")
                .format(table), (date,))
    return [{"cluster": c, "cars": n, "description": d} for c, n, d in cur.fetchall()] or None
