"""`pilot stack` lifecycle: idempotent up, crash recovery, restarts keep data, clear errors."""

from __future__ import annotations

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
    pids = {st.name: st.pid for st in manager.status(stack)}
    started = time.monotonic()
    proc = _pilot("stack", "up")
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - started < 60
    assert {st.name: st.pid for st in manager.status(stack)} == pids
    for name in pids:
        assert name in proc.stdout  # the table lists every service


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


def test_restart_keeps_data_without_reformatting(stack: Settings) -> None:
    import happybase
    from hdfs import InsecureClient
    from pyhive import hive

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

    restarted = ["hdfs-namenode", "hdfs-datanode", "kafka", "hbase", "hbase-thrift", "hive"]
    manager.down(stack, restarted)
    assert all(st.state == "down" for st in manager.status(stack, restarted))
    manager.up(stack, restarted)

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
    datanode_log = services.get("hdfs-datanode").log_file(stack).read_text(errors="replace")
    assert "Incompatible clusterIDs" not in datanode_log


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
