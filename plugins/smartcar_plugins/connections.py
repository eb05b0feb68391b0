"""Where DAG tasks find the services: the Airflow connections, read through the providers' hooks.

`pilot stack up` imports one connection per service, derived from the settings, into Airflow's
database; a user who edits a connection in the Airflow UI moves the DAG's tasks with it. Tasks hand the stage
libraries a `Settings` whose endpoints and credentials come from these connections, and clients
made by the hooks where a library takes a client.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from pilot.errors import PilotError
from pilot.settings import Settings, get_settings

WEBHDFS = "webhdfs_default"
HIVESERVER2 = "hiveserver2_default"
KAFKA = "kafka_default"
HBASE = "hbase_default"
REDIS = "redis_default"
POSTGRES = "postgres_default"


class ConnectionLike(Protocol):
    host: str | None
    port: int | None
    login: str | None
    password: str | None
    schema: str | None

    @property
    def extra_dejson(self) -> dict[str, Any]: ...


def _bootstrap(servers: str) -> tuple[str, int]:
    first = servers.split(",")[0].strip()
    host, _, port = first.rpartition(":")
    return host, int(port)


def endpoints(base: Settings, conns: Mapping[str, ConnectionLike]) -> Settings:
    """``base`` with every service's address and credentials taken from its connection."""
    changes: dict[str, Any] = {}

    def take(conn_id: str, **fields: str) -> None:
        conn = conns.get(conn_id)
        if conn is None:
            return
        for field, attr in fields.items():
            value = getattr(conn, attr)
            if value not in (None, ""):
                changes[field] = type(getattr(base, field))(value)

    take(WEBHDFS, hdfs_namenode_host="host", hdfs_http_port="port", hdfs_user="login")
    take(HIVESERVER2, hive_host="host", hive_port="port", hive_user="login", hive_database="schema")
    take(HBASE, hbase_host="host", hbase_thrift_port="port")
    take(REDIS, redis_host="host", redis_port="port", redis_password="password")  # noqa: S106
    take(POSTGRES, postgres_host="host", postgres_port="port", postgres_user="login",
         postgres_password="password", postgres_db="schema")  # noqa: S106
    if HBASE in conns:
        extra = conns[HBASE].extra_dejson
        changes.update({k: str(extra[e]) for k, e in (("hbase_table", "table"), ("hbase_family", "family"))
                        if extra.get(e)})
    if REDIS in conns and conns[REDIS].extra_dejson.get("db") is not None:
        changes["redis_db"] = int(conns[REDIS].extra_dejson["db"])
    if KAFKA in conns and conns[KAFKA].extra_dejson.get("bootstrap.servers"):
        servers = conns[KAFKA].extra_dejson["bootstrap.servers"]
        changes["kafka_host"], changes["kafka_port"] = _bootstrap(servers)
    return dataclasses.replace(base, **changes)


def connected_settings(base: Settings | None = None) -> Settings:
    """The settings as the Airflow connections say (what every DAG task uses)."""
    from airflow.providers.apache.hdfs.hooks.webhdfs import WebHDFSHook
    from airflow.providers.apache.hive.hooks.hive import HiveServer2Hook
    from airflow.providers.postgres.hooks.postgres import PostgresHook
    from airflow.providers.redis.hooks.redis import RedisHook
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    from smartcar_plugins.hbase_hook import HBaseHook

    hooks = {WEBHDFS: WebHDFSHook, HIVESERVER2: HiveServer2Hook, KAFKA: BaseHook, HBASE: HBaseHook,
             REDIS: RedisHook, POSTGRES: PostgresHook}
    conns = {}
    for conn_id, hook in hooks.items():
        try:
            conns[conn_id] = hook.get_connection(conn_id)
        except AirflowNotFoundException:
            raise PilotError(f"the Airflow connection {conn_id!r} is not defined; `pilot stack up` "
                             f"imports every connection from the settings, or add "
                             f"it in the Airflow UI (Admin > Connections)") from None
    return endpoints(base or get_settings(), conns)


def hdfs_client() -> Any:
    """A WebHDFS client (HdfsCLI) from the `webhdfs_default` connection."""
    from airflow.providers.apache.hdfs.hooks.webhdfs import WebHDFSHook

    return WebHDFSHook(webhdfs_conn_id=WEBHDFS).get_conn()


def hive_session(s: Settings) -> Any:
    """A Hive session over the `hiveserver2_default` connection's PyHive connection."""
    from airflow.providers.apache.hive.hooks.hive import HiveServer2Hook

    from marts.hive import HiveSession

    hook = HiveServer2Hook(hiveserver2_conn_id=HIVESERVER2)
    return HiveSession.over(hook.get_conn(schema=s.hive_database), f"{s.hive_host}:{s.hive_port}",
                            s.hive_query_timeout_seconds)


def redis_client() -> Any:
    from airflow.providers.redis.hooks.redis import RedisHook

    return RedisHook(redis_conn_id=REDIS).get_conn()


@contextlib.contextmanager
def postgres_connection() -> Iterator[Any]:
    """A psycopg2 connection to the export database of the `postgres_default` connection (the
    exporter's driver: the provider's hook may hand out psycopg 3, whose SQL objects differ)."""
    import psycopg2

    s = connected_settings()
    conn = psycopg2.connect(s.postgres_dsn, connect_timeout=s.postgres_connect_timeout_seconds)
    try:
        yield conn
    finally:
        conn.close()
