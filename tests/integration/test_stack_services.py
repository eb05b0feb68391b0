"""Each service of the stack does its job over its real protocol, bound to loopback only."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import time
import urllib.request
import uuid

import pytest

from pilot.settings import Settings
from stack import services


def test_every_service_is_up(stack: Settings) -> None:
    from stack import manager

    states = manager.status(stack)
    optional = {svc.name for svc in services.SERVICES if svc.optional}  # started on demand (`--with`)
    assert [st.name for st in states if st.state != "up" and st.name not in optional] == []
    assert all(st.state in ("up", "off") for st in states if st.name in optional)


def _loopback(ip: str) -> bool:
    address = ipaddress.ip_address(ip.split("%")[0])
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def _stack_processes(s: Settings) -> dict[int, str]:
    """pid -> service of every process in the stack's process groups (each service is one group)."""
    import psutil

    from stack.process import running_pid

    leaders = {pid: svc.name for svc in services.SERVICES if (pid := running_pid(svc.pid_file(s)))}
    members: dict[int, str] = {}
    for proc in psutil.process_iter():
        with contextlib.suppress(OSError):
            if os.getpgid(proc.pid) in leaders:
                members[proc.pid] = leaders[os.getpgid(proc.pid)]
    return members


def test_every_listening_socket_of_the_stack_is_loopback(stack: Settings) -> None:
    """Not only the declared ports: health and log servers, JMX, RPC ports a service opens itself."""
    import psutil

    members = _stack_processes(stack)
    default = {svc.name for svc in services.SERVICES if not svc.optional}
    assert default <= set(members.values()), "a service has no process"
    listening = [(members[c.pid], c.laddr.ip, c.laddr.port) for c in psutil.net_connections(kind="inet")
                 if c.status == psutil.CONN_LISTEN and c.pid in members]
    declared = {p for svc in services.SERVICES for p in svc.ports(stack)}
    assert declared <= {port for _, _, port in listening}, "a declared port is not listening"
    wide = [f"{name} listens on {ip}:{port}" for name, ip, port in listening if not _loopback(ip)]
    assert wide == []


def test_webhdfs_write_read_follows_the_datanode_redirect(stack: Settings) -> None:
    from hdfs import InsecureClient

    client = InsecureClient(stack.webhdfs_url, user=stack.hdfs_user)
    path = f"/tmp/pilot-it/{uuid.uuid4().hex}.txt"
    payload = "A0001,20200322000000\n" * 1000
    client.write(path, payload, encoding="utf-8", overwrite=True)
    with client.read(path, encoding="utf-8") as reader:
        assert reader.read() == payload
    assert client.status(path)["length"] == len(payload)
    client.delete(path)
    # The redirect names a host a local client can reach.
    req = urllib.request.Request(f"{stack.webhdfs_url}/webhdfs/v1/tmp?op=CREATE&user.name=x&noredirect=true",
                                 method="PUT")
    with urllib.request.urlopen(req, timeout=10) as resp:
        location = json.loads(resp.read())["Location"]
    assert location.startswith(f"http://{stack.hdfs_datanode_hostname}:{stack.hdfs_datanode_http_port}/")


def test_project_folders_exist_in_hdfs(stack: Settings) -> None:
    from hdfs import InsecureClient

    client = InsecureClient(stack.webhdfs_url, user=stack.hdfs_user)
    folders = (stack.hdfs_status_dir, stack.hdfs_drive_dir, stack.hdfs_master_dir, stack.hdfs_buylist_dir)
    for folder in folders:
        assert client.status(folder)["type"] == "DIRECTORY"


def test_kafka_round_trip_and_topics(stack: Settings) -> None:
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

    admin = KafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)
    try:
        described = {t["name"]: t for t in admin.describe_topics([stack.topic_status, stack.topic_drive,
                                                                    stack.topic_dlq])}
    finally:
        admin.close()
    for name in (stack.topic_status, stack.topic_drive, stack.topic_dlq):
        assert len(described[name]["partitions"]) == stack.kafka_partitions
    marker = uuid.uuid4().hex
    producer = KafkaProducer(bootstrap_servers=stack.kafka_bootstrap, acks="all")
    meta = producer.send(stack.topic_dlq, key=b"it", value=marker.encode()).get(timeout=30)
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=stack.kafka_bootstrap, enable_auto_commit=False,
                             consumer_timeout_ms=10000)
    tp = TopicPartition(stack.topic_dlq, meta.partition)
    consumer.assign([tp])
    consumer.seek(tp, meta.offset)
    values = [m.value for m in consumer]
    consumer.close()
    assert values and values[0] == marker.encode()


def test_hbase_thrift_put_and_prefix_scan(stack: Settings) -> None:
    import happybase

    conn = happybase.Connection(stack.hbase_host, stack.hbase_thrift_port)
    try:
        assert stack.hbase_table.encode() in conn.tables()
        name = f"it_{uuid.uuid4().hex[:8]}"
        conn.create_table(name, {"cf1": {}})
        table = conn.table(name)
        with table.batch(batch_size=500) as batch:
            for i in range(2000):
                batch.put(f"car{i % 4}-{i:06d}".encode(), {b"cf1:speed": str(i).encode()})
        rows = list(table.scan(row_prefix=b"car1-"))
        assert len(rows) == 500
        assert rows[0][1][b"cf1:speed"] == b"1"
        conn.delete_table(name, disable=True)
    finally:
        conn.close()


def test_hive_endpoint_runs_hiveql_on_hdfs(stack: Settings) -> None:
    from pyhive import hive

    conn = hive.connect(host=stack.hive_host, port=stack.hive_port, username=stack.hive_user)
    table = f"it_{uuid.uuid4().hex[:8]}"
    try:
        cur = conn.cursor()
        cur.execute(f"CREATE TABLE default.{table} (car string, speed int) PARTITIONED BY (wrk_date string) "
                    "ROW FORMAT DELIMITED FIELDS TERMINATED BY ','")
        cur.execute(f"INSERT OVERWRITE TABLE default.{table} PARTITION (wrk_date='20200322') "
                    "VALUES ('A0001', 90), ('A0001', 70), ('B0002', 10)")
        cur.execute(f"SELECT car, avg(speed) FROM default.{table} GROUP BY car ORDER BY car")
        assert cur.fetchall() == [("A0001", 80.0), ("B0002", 10.0)]
        cur.execute(f"DESCRIBE FORMATTED default.{table}")
        location = next(r for r in cur.fetchall() if r[0].strip() == "Location")[1]
        assert location.startswith(stack.hdfs_uri)
    finally:
        conn.cursor().execute(f"DROP TABLE IF EXISTS default.{table}")
        conn.close()


def test_redis_requires_the_password(stack: Settings) -> None:
    import redis

    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host=stack.redis_host, port=stack.redis_port).ping()
    client = redis.Redis(host=stack.redis_host, port=stack.redis_port, password=stack.redis_password)
    key = f"it:{uuid.uuid4().hex}"
    client.set(key, "1", ex=30)
    assert client.get(key) == b"1"
    client.delete(key)


def test_postgres_keeps_airflow_and_export_databases_apart(stack: Settings) -> None:
    import psycopg2

    with psycopg2.connect(stack.postgres_dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT current_database(), current_user")
        assert cur.fetchone() == (stack.postgres_db, stack.postgres_user)
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(host=stack.postgres_host, port=stack.postgres_port, user=stack.postgres_user,
                         password=stack.postgres_password, dbname=stack.airflow_db).close()
    with pytest.raises(psycopg2.OperationalError, match="password"):
        psycopg2.connect(host=stack.postgres_host, port=stack.postgres_port, user=stack.postgres_superuser,
                         password="wrong", dbname="postgres").close()


def _airflow_token(stack: Settings, password: str) -> str:
    body = json.dumps({"username": stack.airflow_admin_user, "password": password}).encode()
    req = urllib.request.Request(f"{stack.airflow_url}/auth/token", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())["access_token"]


def test_airflow_requires_login_and_all_components_are_healthy(stack: Settings) -> None:
    import urllib.error

    with pytest.raises(urllib.error.HTTPError) as anonymous:
        urllib.request.urlopen(f"{stack.airflow_url}/api/v2/dags", timeout=10)
    assert anonymous.value.code == 401
    with pytest.raises(urllib.error.HTTPError) as wrong:
        _airflow_token(stack, "not-the-password")
    assert wrong.value.code == 401
    token = _airflow_token(stack, stack.airflow_admin_password)
    req = urllib.request.Request(f"{stack.airflow_url}/api/v2/dags",
                                 headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert "dags" in json.loads(resp.read())
    deadline = time.monotonic() + 60
    while True:
        with urllib.request.urlopen(f"{stack.airflow_url}/api/v2/monitor/health", timeout=10) as resp:
            health = json.loads(resp.read())
        statuses = {k: (v or {}).get("status") for k, v in health.items()}
        if set(statuses.values()) == {"healthy"} or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert statuses == {"metadatabase": "healthy", "scheduler": "healthy", "triggerer": "healthy",
                        "dag_processor": "healthy"}
