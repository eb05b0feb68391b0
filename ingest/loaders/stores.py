"""Read-only clients of the real-time stores, failing with one readable message when a store is away."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pilot.errors import ServiceUnavailable
from pilot.settings import Settings


def redis_reader(s: Settings) -> Any:
    """A Redis client (text replies) that answered a PING."""
    import redis

    client = redis.Redis(host=s.redis_host, port=s.redis_port, db=s.redis_db,
                         password=s.redis_password or None, socket_connect_timeout=5,
                         socket_timeout=15, decode_responses=True)
    try:
        client.ping()
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        raise ServiceUnavailable("Redis", f"{s.redis_host}:{s.redis_port}", str(exc),
                                 hint="start it with `pilot stack up redis`") from exc
    except redis.AuthenticationError as exc:
        raise ServiceUnavailable("Redis", f"{s.redis_host}:{s.redis_port}", f"login refused: {exc}",
                                 hint="check PILOT_REDIS_PASSWORD (see `pilot settings`)") from exc
    return client


@contextmanager
def hbase_reader(s: Settings, timeout_ms: int = 30_000) -> Iterator[Any]:
    """A happybase connection through the Thrift gateway that listed the tables; closed on exit."""
    import happybase
    from thriftpy2.thrift import TException

    address = f"{s.hbase_host}:{s.hbase_thrift_port}"
    try:
        conn = happybase.Connection(s.hbase_host, s.hbase_thrift_port, timeout=timeout_ms)
        tables = conn.tables()
    except (TException, OSError, EOFError) as exc:
        raise ServiceUnavailable("HBase Thrift", address, f"{type(exc).__name__}: {exc}",
                                 hint="start it with `pilot stack up hbase-thrift`") from exc
    try:
        if s.hbase_table.encode() not in tables:
            raise ServiceUnavailable("HBase table " + s.hbase_table, address, "the table does not exist",
                                     hint="`pilot stack up` creates it")
        yield conn
    finally:
        conn.close()
