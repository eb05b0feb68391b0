"""Airflow 3: api-server (UI + REST), scheduler, dag-processor, triggerer; LocalExecutor on PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from functools import partial
from pathlib import Path

from pilot.errors import PilotError
from pilot.settings import REPO_ROOT, Settings, airflow_connections
from stack import probes
from stack.services.base import Service


def airflow_home(s: Settings) -> Path:
    return s.path("airflow")


def passwords_file(s: Settings) -> Path:
    return airflow_home(s) / "simple_auth_manager_passwords.json"


def airflow_env(s: Settings) -> dict[str, str]:
    """The whole Airflow configuration, as environment variables derived from the settings."""
    home = airflow_home(s)
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": str(s.airflow_parallelism),
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": str(s.airflow_parallelism),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__FERNET_KEY": s.airflow_fernet_key,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{s.airflow_url}/execution/",
        "AIRFLOW__CORE__AUTH_MANAGER":
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{s.airflow_admin_user}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file(s)),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": s.airflow_sqlalchemy_url,
        "AIRFLOW__API__HOST": s.bind_host,
        "AIRFLOW__API__PORT": str(s.airflow_port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__SECRET_KEY": s.airflow_secret_key,
        "AIRFLOW__API__BASE_URL": s.airflow_url,
        "AIRFLOW__API_AUTH__JWT_SECRET": s.airflow_jwt_secret,
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
        "AIRFLOW__TRIGGERER__CAPACITY": "100",
        "AIRFLOW__API__EXPOSE_CONFIG": "False",
    }
    env.update(airflow_connections(s))
    return env


def airflow_bin() -> str:
    candidate = Path(sys.executable).parent / "airflow"
    if candidate.is_file():
        return str(candidate)
    found = shutil.which("airflow")
    if not found:
        raise PilotError("the `airflow` command is not installed in this environment; run `make setup`.")
    return found


def write_passwords_file(s: Settings) -> None:
    path = passwords_file(s)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({s.airflow_admin_user: s.airflow_admin_password}, fh)


# One Hive SQL statement stream at a time: the Spark Thrift Server is a single local[2] driver,
# and concurrent DDL on shared views races.
HIVE_POOL = ("hive_sql", "1", "Hive SQL endpoint (Spark Thrift Server): one mart build at a time")


def migrate(s: Settings) -> None:
    """Create or upgrade the metadata schema (idempotent), the pools, and set the admin login."""
    write_passwords_file(s)
    env = {**os.environ, **airflow_env(s)}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    log = s.path("logs", "airflow-db-migrate.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        for command in (["db", "migrate"], ["pools", "set", *HIVE_POOL]):
            proc = subprocess.run([airflow_bin(), *command], env=env, stdout=out,
                                  stderr=subprocess.STDOUT, check=False, timeout=600)
            if proc.returncode != 0:
                raise PilotError(f"`airflow {' '.join(command[:2])}` failed; see {log}")


def _component(name: str, args: list[str], ready, prepare=None, ui=None) -> Service:
    return Service(
        name=name,
        ports=(lambda s: (s.airflow_port,)) if name == "airflow-api-server" else (lambda s: ()),
        address=lambda s: s.airflow_url,
        ui=ui,
        command=lambda s: [airflow_bin(), *args],
        ready=ready,
        prepare=prepare,
        requires=("postgres",) if name == "airflow-api-server" else ("airflow-api-server",),
        env=airflow_env,
        start_timeout=180,
        stop_timeout=30,
        hint="the Python environment (`make setup`)",
    )


API_SERVER = _component("airflow-api-server", ["api-server"], probes.airflow_api_ready,
                        prepare=migrate, ui=lambda s: f"{s.airflow_url}/")
SCHEDULER = _component("airflow-scheduler", ["scheduler"],
                       partial(probes.airflow_component_ready, component="scheduler"))
DAG_PROCESSOR = _component("airflow-dag-processor", ["dag-processor"],
                           partial(probes.airflow_component_ready, component="dag_processor"))
TRIGGERER = _component("airflow-triggerer", ["triggerer"],
                       partial(probes.airflow_component_ready, component="triggerer"))
