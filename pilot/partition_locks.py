"""Readers and the writer of one published mart partition take turns.

An export reads the files of a mart partition's current build; a mart build publishes a new build
by pointing the partition at it and then deletes builds older than the one it replaced. Both DAGs
(and `pilot` commands) may do this for the same date at once. A PostgreSQL advisory lock per
partition keeps them apart: exports hold it *shared* from resolving the partition's location
until they have read every file, a publish holds it *exclusive* while it switches the location
and removes old builds. So no export ever reads a build that is being replaced or removed, and
exports of one partition still run side by side. The lock belongs to a database session: a
crashed holder releases it with its connection.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from pilot.errors import PilotError, ServiceUnavailable
from pilot.settings import Settings

DEFAULT_WAIT_SECONDS = 1800.0


class PartitionBusy(PilotError):
    """The partition stayed locked longer than the caller was willing to wait."""


def partition_key(database: str, table: str, column: str, value: str) -> str:
    return f"mart-partition:{database}.{table}/{column}={value}"


@contextlib.contextmanager
def partition_lock(s: Settings, key: str, *, exclusive: bool,
                   wait_seconds: float = DEFAULT_WAIT_SECONDS) -> Iterator[None]:
    """Hold the advisory lock of ``key`` (shared for readers, exclusive for the publisher)."""
    import psycopg2

    try:
        conn = psycopg2.connect(s.postgres_dsn, connect_timeout=s.postgres_connect_timeout_seconds)
    except psycopg2.OperationalError as exc:
        raise ServiceUnavailable("PostgreSQL", f"{s.postgres_host}:{s.postgres_port}",
                                 " ".join(str(exc).split())) from exc
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT set_config('lock_timeout', %s, false)", (f"{int(wait_seconds * 1000)}ms",))
            function = "pg_advisory_lock" if exclusive else "pg_advisory_lock_shared"
            try:
                cur.execute(f"SELECT {function}(hashtextextended(%s, 0))", (key,))
            except psycopg2.errors.LockNotAvailable as exc:
                holder = "exports still reading it" if exclusive else "a build publishing it"
                raise PartitionBusy(f"{key} stayed locked by {holder} for {wait_seconds:.0f} s; "
                                    f"try again later") from exc
        yield
    finally:
        conn.close()  # ends the session and with it the lock
