"""The CeleryExecutor option of the stack, without services: Airflow's configuration in that mode,
the two workers `pilot stack up` starts only then, and the name a task instance records."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from smartcar_plugins import worker_name

from pilot.errors import PilotError
from pilot.settings import load_settings
from stack import manager, services
from stack.services import airflow

WORKERS = ("airflow-worker-1", "airflow-worker-2")


@pytest.fixture
def local(tmp_path: Path):
    return load_settings({"PILOT_VAR_DIR": str(tmp_path / "var"), "PILOT_REDIS_PASSWORD": "p@ss/word",
                          "PILOT_AIRFLOW_DB_PASSWORD": "db pass"}, env_file=tmp_path / ".env")


def test_local_mode_is_the_default_and_has_no_celery_settings(local) -> None:
    env = airflow.airflow_env(local)
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert not [k for k in env if k.startswith("AIRFLOW__CELERY__")]


def test_celery_mode_uses_the_stacks_redis_and_postgres(local) -> None:
    s = dataclasses.replace(local, airflow_executor="CeleryExecutor")
    env = airflow.airflow_env(s)
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    broker = urlsplit(env["AIRFLOW__CELERY__BROKER_URL"])
    assert (broker.scheme, broker.hostname, broker.port) == ("redis", s.redis_host, s.redis_port)
    assert broker.path == f"/{s.redis_celery_db}" and s.redis_celery_db != s.redis_db  # apart from the alerts
    assert broker.password == "p%40ss%2Fword"  # quoted: the password holds URL characters
    backend = env["AIRFLOW__CELERY__RESULT_BACKEND"]
    assert backend.startswith("db+postgresql://") and backend.endswith(f"/{s.airflow_db}")
    assert urlsplit(backend.removeprefix("db+")).port == s.postgres_port
    assert env["AIRFLOW__CELERY__WORKER_CONCURRENCY"] == str(s.airflow_celery_concurrency)


def test_an_unknown_executor_is_refused_by_name(local) -> None:
    with pytest.raises(PilotError, match="PILOT_AIRFLOW_EXECUTOR"):
        airflow.airflow_env(dataclasses.replace(local, airflow_executor="KubernetesExecutor"))


def test_workers_start_by_default_only_in_celery_mode(local) -> None:
    celery = dataclasses.replace(local, airflow_executor="CeleryExecutor")
    for name in WORKERS:
        worker = services.get(name)
        assert not worker.starts_by_default(local) and worker.starts_by_default(celery)
        assert worker.requires == ("redis", "airflow-api-server")
        command = worker.command(celery)
        assert command[1:3] == ["celery", "worker"] and "--skip-serve-logs" in command
    assert services.get("airflow-scheduler").starts_by_default(local)
    assert not services.get("stream-loader").starts_by_default(celery)
    # a worker that is not running is "off" in local mode and "down" (a failure) in Celery mode
    assert {st.state for st in manager.status(local, list(WORKERS))} == {"off"}
    assert {st.state for st in manager.status(celery, list(WORKERS))} == {"down"}


def test_each_worker_names_itself_in_the_task_instances(local, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PILOT_AIRFLOW_WORKER_NAME", raising=False)
    machine = worker_name.hostname()
    assert "@" not in machine
    celery = dataclasses.replace(local, airflow_executor="CeleryExecutor")
    env = services.get("airflow-worker-2").env(celery)
    monkeypatch.setenv("PILOT_AIRFLOW_WORKER_NAME", env["PILOT_AIRFLOW_WORKER_NAME"])
    assert worker_name.hostname() == f"worker2@{machine}"
    assert env["AIRFLOW__CORE__HOSTNAME_CALLABLE"] == "smartcar_plugins.worker_name.hostname"


def test_tasks_may_start_processes_inside_celerys_daemonic_pool() -> None:
    import multiprocessing
    import os

    from billiard.process import AuthenticationString as BilliardKey

    from orchestration.pipeline import spawn_safe_main

    config = multiprocessing.current_process()._config
    own_key = config["authkey"]
    billiard_key = BilliardKey(os.urandom(32))
    # as in a task process forked from a process of Celery's prefork pool
    config["daemon"], config["authkey"] = True, billiard_key
    try:
        with spawn_safe_main():
            assert "daemon" not in config
            child = multiprocessing.get_context("spawn").Process(target=int)
            # refused otherwise: "daemonic processes are not allowed to have children", then
            # "Pickling an AuthenticationString object is disallowed for security reasons"
            child.start()
            child.join(30)
            assert child.exitcode == 0
        assert config["daemon"] is True and config["authkey"] is billiard_key
    finally:
        config.pop("daemon", None)
        config["authkey"] = own_key
