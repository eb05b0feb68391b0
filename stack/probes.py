"""Readiness checks: each answers "does this service do its job right now?" over its protocol."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from pilot.settings import Settings
from stack.process import port_open


def _http_json(url: str, timeout: float = 3.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - local http URLs
        return json.loads(resp.read().decode())


def postgres_ready(s: Settings) -> bool:
    import psycopg2

    try:
        conn = psycopg2.connect(host=s.postgres_host, port=s.postgres_port, user=s.postgres_superuser,
                                password=s.postgres_superuser_password, dbname="postgres",
                                connect_timeout=3)
    except psycopg2.OperationalError:
        return False
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            return cur.fetchone() == (1,)
    finally:
        conn.close()


def redis_ready(s: Settings) -> bool:
    import redis

    try:
        return bool(redis.Redis(host=s.redis_host, port=s.redis_port, password=s.redis_password,
                                socket_connect_timeout=2, socket_timeout=2).ping())
    except redis.RedisError:
        return False


def _namenode_bean(s: Settings, name: str) -> dict[str, Any] | None:
    url = f"{s.webhdfs_url}/jmx?qry=Hadoop:service=NameNode,name={name}"
    try:
        beans = _http_json(url).get("beans", [])
    except (OSError, urllib.error.URLError, ValueError):
        return None
    return beans[0] if beans else None


def namenode_ready(s: Settings) -> bool:
    return _namenode_bean(s, "NameNodeInfo") is not None


def hdfs_ready(s: Settings) -> bool:
    """At least one live DataNode and out of safe mode: HDFS accepts writes.

    The DataNode's own HTTP port (WebHDFS reads and writes go there) must answer too: after a
    DataNode restart the NameNode still counts the old process as live until its heartbeat
    expires (minutes), so its count alone says "ready" seconds too early.
    """
    if not port_open(s.hdfs_datanode_hostname, s.hdfs_datanode_http_port):
        return False
    state = _namenode_bean(s, "FSNamesystemState")
    info = _namenode_bean(s, "NameNodeInfo")
    if not state or not info:
        return False
    return (int(state.get("NumLiveDataNodes", 0)) >= 1 and state.get("FSState") == "Operational"
            and not info.get("Safemode"))


def kafka_ready(s: Settings) -> bool:
    if not port_open(s.kafka_host, s.kafka_port):
        return False
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        admin = KafkaAdminClient(bootstrap_servers=s.kafka_bootstrap, request_timeout_ms=5000,
                                 client_id="pilot-probe")
    except (KafkaError, OSError, ValueError):
        return False
    try:
        admin.list_topics()
        return True
    except (KafkaError, OSError):
        return False
    finally:
        admin.close()


def hbase_master_ready(s: Settings) -> bool:
    return port_open(s.hbase_host, s.hbase_zk_port)


def hbase_ready(s: Settings) -> bool:
    if not port_open(s.hbase_host, s.hbase_thrift_port):
        return False
    import happybase

    try:
        # The Thrift port opens before the master is ready, and calls then block: time out instead.
        conn = happybase.Connection(s.hbase_host, s.hbase_thrift_port, timeout=5000)
        try:
            conn.tables()
            return True
        finally:
            conn.close()
    except Exception:
        return False


def hive_ready(s: Settings) -> bool:
    if not port_open(s.hive_host, s.hive_port):
        return False
    from pyhive import hive

    try:
        conn = hive.connect(host=s.hive_host, port=s.hive_port, username=s.hive_user)
        try:
            cur = conn.cursor()
            cur.execute("SELECT 1")
            return cur.fetchall() == [(1,)]
        finally:
            conn.close()
    except Exception:
        return False


def model_api_ready(s: Settings) -> bool:
    try:
        return "status" in _http_json(f"{s.model_api_url}/health")
    except (OSError, urllib.error.URLError, ValueError):
        return False


def airflow_api_ready(s: Settings) -> bool:
    try:
        return "version" in _http_json(f"{s.airflow_url}/api/v2/version")
    except (OSError, urllib.error.URLError, ValueError):
        return False


def airflow_component_ready(s: Settings, component: str) -> bool:
    """Health of a component as the API server sees it (heartbeats in the metadata DB)."""
    try:
        health = _http_json(f"{s.airflow_url}/api/v2/monitor/health")
    except (OSError, urllib.error.URLError, ValueError):
        return False
    return (health.get(component) or {}).get("status") == "healthy"


def celery_worker_ready(s: Settings, worker: str) -> bool:
    """A Celery worker answers a ping over the broker (the stack's Redis): it is consuming."""
    from celery import Celery

    app = Celery(broker=s.celery_broker_url)
    try:
        replies = app.control.ping(timeout=1.0)
    except Exception:  # the broker is away or refuses: not ready
        return False
    finally:
        app.close()
    return any(name.startswith(f"{worker}@") for reply in replies for name in reply)
