"""`pilot stack` lifecycle: idempotent up, crash recovery, restarts keep data, clear errors."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from pilot.settings import Settings
from stack import manager, services
from stack.process import port_open, running_pid


def _pilot(*args: str, env: dict[str, str] | None = None,
           timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "orchestration.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_second_up_is_a_no_op(stack: Settings) -> None:
    pids = _pids_of_the_default_services(stack)
    started = time.monotonic()
    proc = _pilot("stack", "up")
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - started < 60
    assert _pids_of_the_default_services(stack) == pids
    for name in pids:
        assert name in proc.stdout  # the table lists every service


def _pids_of_the_default_services(s: Settings) -> dict[str, int | None]:
    """What `pilot stack up` starts: every service but the optional ones (the stream)."""
    optional = {svc.name for svc in services.SERVICES if svc.optional}
    return {st.name: st.pid for st in manager.status(s) if st.name not in optional}


def test_status_exit_code_and_recovery_after_a_crash(stack: Settings) -> None:
    import redis

    client = redis.Redis(host=stack.redis_host, port=stack.redis_port, password=stack.redis_password)
    key = f"it:crash:{uuid.uuid4().hex}"
    client.set(key, "kept")
    time.sleep(1.5)  # appendfsync everysec
    pid = running_pid(services.get("redis").pid_file(stack))
    assert pid
    os.killpg(pid, signal.SIGKILL)
    time.sleep(0.5)
    status = _pilot("stack", "status")
    assert status.returncode == 1
    assert any(line.startswith("redis") and " down " in line for line in status.stdout.splitlines())
    up = _pilot("stack", "up", "redis")
    assert up.returncode == 0, up.stderr
    assert _pilot("stack", "status").returncode == 0
    client = redis.Redis(host=stack.redis_host, port=stack.redis_port, password=stack.redis_password)
    assert client.get(key) == b"kept"
    client.delete(key)


def test_stack_down_then_up_keeps_the_data_of_every_service(stack: Settings) -> None:
    """`pilot stack down` then `up` with data in every service: HDFS files, a Hive table, HBase rows,
    Kafka records and a group's committed offset, Redis keys, a PostgreSQL table and Airflow's run
    history are all there afterwards, and HDFS was not reformatted."""
    import happybase
    import psycopg2
    import redis
    from hdfs import InsecureClient
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import NewTopic
    from kafka.structs import OffsetAndMetadata
    from pyhive import hive

    from orchestration.airflow_api import AirflowClient
    from orchestration.demo import DAG_ID

    marker = uuid.uuid4().hex[:10]
    hdfs_client = InsecureClient(stack.webhdfs_url, user=stack.hdfs_user)
    hdfs_path = f"/tmp/pilot-it/restart-{marker}.txt"
    hdfs_client.write(hdfs_path, marker, encoding="utf-8", overwrite=True)
    table = f"it_restart_{marker}"
    conn = hive.connect(host=stack.hive_host, port=stack.hive_port, username=stack.hive_user)
    conn.cursor().execute(f"CREATE TABLE default.{table} AS SELECT '{marker}' AS marker")
    conn.close()
    hb = happybase.Connection(stack.hbase_host, stack.hbase_thrift_port)
    hb.table(stack.hbase_table).put(f"it-{marker}".encode(), {b"cf1:marker": marker.encode()})
    hb.close()
    topic, group = f"it-restart-{marker}", f"it-restart-{marker}"
    with contextlib.closing(KafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)) as admin:
        admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    producer = KafkaProducer(bootstrap_servers=stack.kafka_bootstrap, acks="all")
    for i in range(3):
        producer.send(topic, f"{marker}-{i}".encode(), partition=0)
    producer.flush()
    producer.close()
    tp = TopicPartition(topic, 0)
    consumer = KafkaConsumer(bootstrap_servers=stack.kafka_bootstrap, group_id=group,
                             enable_auto_commit=False)
    consumer.commit({tp: OffsetAndMetadata(2, "", -1)})
    consumer.close(autocommit=False)
    rd = redis.Redis(host=stack.redis_host, port=stack.redis_port, password=stack.redis_password)
    rd.sadd(f"it-restart-{marker}", "A0001-20200322000000")
    with contextlib.closing(psycopg2.connect(stack.postgres_dsn)) as pg, pg, pg.cursor() as cur:
        cur.execute(f"CREATE TABLE public.{table} (marker text)")
        cur.execute(f"INSERT INTO public.{table} VALUES (%s)", (marker,))
    idle_client = psycopg2.connect(stack.postgres_dsn)  # still connected at `down`, as a psql would be
    airflow = AirflowClient(stack)
    airflow.wait_for_dag(DAG_ID)
    airflow.unpause(DAG_ID)
    failed_run = f"restart__{marker}"  # a run that fails at once: history without heavy work
    airflow.trigger(DAG_ID, {"date": "20200230", "cars": 1, "seed": 1}, run_id=failed_run)
    assert airflow.wait_for_run(DAG_ID, failed_run, timeout=300)["state"] == "failed"
    history = _run_history(airflow)
    assert failed_run in history

    try:
        manager.down(stack)
        assert all(st.state in ("down", "off") and st.pid is None for st in manager.status(stack))
    finally:
        manager.up(stack)  # also when the check fails: the tests after this one need the stack
    idle_client.close()

    with hdfs_client.read(hdfs_path, encoding="utf-8") as reader:
        assert reader.read() == marker
    hdfs_client.delete(hdfs_path)
    conn = hive.connect(host=stack.hive_host, port=stack.hive_port, username=stack.hive_user)
    cur = conn.cursor()
    cur.execute(f"SELECT marker FROM default.{table}")
    assert cur.fetchall() == [(marker,)]
    cur.execute(f"DROP TABLE default.{table}")
    conn.close()
    hb = happybase.Connection(stack.hbase_host, stack.hbase_thrift_port)
    table_ = hb.table(stack.hbase_table)
    assert table_.row(f"it-{marker}".encode()) == {b"cf1:marker": marker.encode()}
    table_.delete(f"it-{marker}".encode())
    hb.close()
    consumer = KafkaConsumer(bootstrap_servers=stack.kafka_bootstrap, group_id=group,
                             enable_auto_commit=False, consumer_timeout_ms=10_000)
    assert consumer.committed(tp) == 2
    consumer.assign([tp])
    consumer.seek(tp, 0)
    assert [r.value.decode() for r in consumer] == [f"{marker}-{i}" for i in range(3)]
    consumer.close(autocommit=False)
    with contextlib.closing(KafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)) as admin:
        admin.delete_topics([topic])
    assert rd.smembers(f"it-restart-{marker}") == {b"A0001-20200322000000"}
    rd.delete(f"it-restart-{marker}")
    with contextlib.closing(psycopg2.connect(stack.postgres_dsn)) as pg, pg, pg.cursor() as cur:
        cur.execute(f"SELECT marker FROM public.{table}")
        assert cur.fetchall() == [(marker,)]
        cur.execute(f"DROP TABLE public.{table}")
    assert _run_history(AirflowClient(stack)) == history
    datanode_log = services.get("hdfs-datanode").log_file(stack).read_text(errors="replace")
    assert "Incompatible clusterIDs" not in datanode_log


def _run_history(client: object) -> dict[str, str]:
    """run id -> state of every finished run of every DAG."""
    runs = client._request("GET", "/api/v2/dags/~/dagRuns?limit=1000")["dag_runs"]  # type: ignore[attr-defined]
    return {r["dag_run_id"]: r["state"] for r in runs if r["state"] in ("success", "failed")}


def _isolated_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"PILOT_VAR_DIR": str(tmp_path / "var"), **extra}


def test_port_in_use_is_one_clear_message(tmp_path: Path, stack: Settings) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        proc = _pilot("stack", "up", "redis", env=_isolated_env(tmp_path, PILOT_REDIS_PORT=str(port)))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "redis" in proc.stderr and f"port {port}" in proc.stderr


def test_missing_java_is_one_clear_message(tmp_path: Path, stack: Settings) -> None:
    env = _isolated_env(tmp_path, PILOT_KAFKA_PORT=str(_free_port()),
                        PILOT_KAFKA_CONTROLLER_PORT=str(_free_port()), PATH="/nonexistent")
    proc = _pilot("stack", "up", "kafka", env=env)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "java" in proc.stderr


def test_external_service_that_is_down_is_named(tmp_path: Path, stack: Settings) -> None:
    env = _isolated_env(tmp_path, PILOT_MANAGED_SERVICES="postgres", PILOT_REDIS_PORT=str(_free_port()))
    proc = _pilot("stack", "up", "redis", env=env)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "redis is not reachable" in proc.stderr


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(f"{entry.name}: {cmdline[:120]}")
    return found


def test_down_leaves_no_process_behind(tmp_path: Path, stack: Settings) -> None:
    ports = {"PILOT_REDIS_PORT": _free_port(), "PILOT_KAFKA_PORT": _free_port(),
             "PILOT_KAFKA_CONTROLLER_PORT": _free_port()}
    env = _isolated_env(tmp_path, **{k: str(v) for k, v in ports.items()})
    up = _pilot("stack", "up", "redis", "kafka", env=env)
    assert up.returncode == 0, up.stderr
    var_dir = str(tmp_path / "var")
    assert _processes_mentioning(var_dir), "the isolated stack should be running"
    down = _pilot("stack", "down", env=env)
    assert down.returncode == 0, down.stderr
    assert _processes_mentioning(var_dir) == []
    assert [p for p in ports.values() if port_open("127.0.0.1", p)] == []
    status = _pilot("stack", "status", "redis", "kafka", env=env)
    assert status.returncode == 1


@pytest.mark.parametrize("service", ["redis", "kafka", "hive"])
def test_logs_command_prints_the_service_log(stack: Settings, service: str) -> None:
    proc = _pilot("stack", "logs", service, "-n", "5")
    assert proc.returncode == 0
    assert proc.stdout.strip()
