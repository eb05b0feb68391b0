"""HBase tables that tests and benchmarks create for themselves."""

from __future__ import annotations

from pilot.settings import Settings
from stack.services.hbase import connection


def drop_table(s: Settings) -> None:
    """Drop ``s.hbase_table`` if it exists (tests and benchmarks that created their own)."""
    with connection(s, timeout_ms=60000) as conn:
        if s.hbase_table.encode() in conn.tables():
            conn.delete_table(s.hbase_table, disable=True)
