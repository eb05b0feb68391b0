"""The export log: one row per exported partition (target, partition), written in the transaction
that publishes it, so a reader that sees the row sees the rows it counts.

The end-to-end DAG waits on it for the marts its load started (they are built by the marts DAG),
and its summary reports the exported row counts from it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg2 import sql

LOG_TABLE = sql.Identifier("public", "pilot_export_log")
_DDL = sql.SQL("""CREATE TABLE IF NOT EXISTS {} (
    target      text        NOT NULL,
    partition   text        NOT NULL,
    mart        text        NOT NULL,
    rows        bigint      NOT NULL,
    checksum    text        NOT NULL,
    exported_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (target, partition))""").format(LOG_TABLE)


def ensure_log(conn: Any) -> None:
    """Create the log once (serialised: exports run in parallel), in its own transaction."""
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtextextended('pilot-export-log', 0))")
        cur.execute(_DDL)
    conn.commit()


def record(cur: Any, *, target: str, partition: str, mart: str, rows: int, checksum: int) -> None:
    """Upsert the partition's row inside the caller's (publishing) transaction."""
    cur.execute(sql.SQL(
        "INSERT INTO {} (target, partition, mart, rows, checksum) VALUES (%s, %s, %s, %s, %s) "
        "ON CONFLICT (target, partition) DO UPDATE SET mart = EXCLUDED.mart, rows = EXCLUDED.rows, "
        "checksum = EXCLUDED.checksum, exported_at = clock_timestamp()").format(LOG_TABLE),
        (target, partition, mart, rows, str(checksum)))


def exported_since(conn: Any, partitions: dict[str, str], since: datetime) -> dict[str, int]:
    """Of ``partitions`` (mart -> partition, e.g. ``biz_date=20200322``), those exported at or after
    ``since``, with their row counts."""
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('public.pilot_export_log') IS NOT NULL")
        if not cur.fetchone()[0]:
            return {}
        cur.execute(sql.SQL("SELECT mart, partition, rows FROM {} WHERE mart = ANY(%s) AND exported_at >= %s")
                    .format(LOG_TABLE), (list(partitions), since))
        return {mart: int(rows) for mart, partition, rows in cur.fetchall() if partitions[mart] == partition}
