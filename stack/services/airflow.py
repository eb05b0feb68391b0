"""Airflow 3: api-server (UI + REST), scheduler, dag-processor, triggerer, metadata in PostgreSQL;
LocalExecutor, or CeleryExecutor with the stack's Redis as broker and two Celery workers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from functools import partial
from pathlib import Path

from pilot.errors import PilotError
from pilot.settings import REPO_ROOT, Settings, airflow_connections
from stack import probes
from stack.config import write_file
from stack.services.base import Service, inherited_env


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
        "AIRFLOW__CORE__EXECUTOR": executor(s),
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
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": s.bind_host,
        # After a crash of the scheduler (or of a worker) its running tasks are found and retried
        # within minutes, not after Airflow's defaults of 5 minutes each.
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "120",
        "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "60",
        "AIRFLOW__TRIGGERER__CAPACITY": "100",
        "AIRFLOW__API__EXPOSE_CONFIG": "False",
    }
    if s.uses_celery:
        env |= {
            "AIRFLOW__CELERY__BROKER_URL": s.celery_broker_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": s.celery_result_backend,
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(s.airflow_celery_concurrency),
            # a worker takes one task at a time from the queue, so idle workers get the next ones
            "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
            # a task not acknowledged within this is handed to another worker: longer than any
            # task's timeout (orchestration/budgets.py), so no running task is redelivered
            "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "86400",
            # a task instance records which worker ran it (its hostname: <worker>@<host>)
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "smartcar_plugins.worker_name.hostname",
        }
    return env


EXECUTORS = ("LocalExecutor", "CeleryExecutor")


def executor(s: Settings) -> str:
    if s.airflow_executor not in EXECUTORS:
        raise PilotError(f"PILOT_AIRFLOW_EXECUTOR={s.airflow_executor!r} is not one of "
                         f"{', '.join(EXECUTORS)}")
    return s.airflow_executor


def airflow_bin() -> str:
    candidate = Path(sys.executable).parent / "airflow"
    if candidate.is_file():
        return str(candidate)
    found = shutil.which("airflow")
    if not found:
        raise PilotError("the `airflow` command is not installed in this environment; run `make setup`.")
    return found


def _write_private_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_file(path, json.dumps(data, indent=1, sort_keys=True), private=True)


def write_passwords_file(s: Settings) -> None:
    _write_private_json(passwords_file(s), {s.airflow_admin_user: s.airflow_admin_password})


# One Hive SQL statement stream at a time: the Spark Thrift Server is a single local[2] driver,
# and concurrent DDL on shared views races.
HIVE_POOL = ("hive_sql", "1", "Hive SQL endpoint (Spark Thrift Server): one mart build at a time")
SPARK_JOB_POOL = ("spark_jobs", "1", "Spark analysis jobs (spark-submit): one at a time next to the stack")


def generated_connections(s: Settings) -> dict[str, dict]:
    """The connections derived from the settings, keyed by conn id, in `connections import` form."""
    found = {}
    for variable, value in airflow_connections(s).items():
        fields = json.loads(value)
        if "extra" in fields:
            fields["extra_dejson"] = fields.pop("extra")
        found[variable.removeprefix("AIRFLOW_CONN_").lower()] = fields
    return found


def connections_to_overwrite(generated: dict[str, dict], last_generated: dict[str, dict]) -> list[str]:
    """Conn ids whose settings changed since the last import: only those replace what the UI holds."""
    return sorted(c for c, fields in generated.items() if c in last_generated and last_generated[c] != fields)


def last_import_record(s: Settings) -> Path:
    return airflow_home(s) / "connections.imported.json"


def connection_imports(s: Settings) -> list[list[str]]:
    """`airflow connections import` commands that put the generated connections in the metadata DB.

    Connections live in the DB (not in `AIRFLOW_CONN_*` variables, which would shadow it) so a user
    can edit them in the UI. Missing ones are added; an existing one is replaced only when the
    settings it comes from changed since the last import, so UI edits survive a restart.
    """
    generated = generated_connections(s)
    record = last_import_record(s)
    last = json.loads(record.read_text(encoding="utf-8")) if record.is_file() else {}
    all_file = airflow_home(s) / "connections.json"
    _write_private_json(all_file, generated)
    commands = [["connections", "import", str(all_file)]]
    changed = connections_to_overwrite(generated, last)
    if changed:
        overwrite_file = airflow_home(s) / "connections.changed.json"
        _write_private_json(overwrite_file, {c: generated[c] for c in changed})
        commands.insert(0, ["connections", "import", "--overwrite", str(overwrite_file)])
    return commands


def migrate(s: Settings) -> None:
    """Create or upgrade the metadata schema (idempotent), the pools, the connections and the admin login."""
    write_passwords_file(s)
    env = {**inherited_env(), **airflow_env(s)}
    log = s.path("logs", "airflow-db-migrate.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    commands = [["db", "migrate"], ["pools", "set", *HIVE_POOL], ["pools", "set", *SPARK_JOB_POOL],
                *connection_imports(s)]
    with open(log, "ab") as out:
        for command in commands:
            proc = subprocess.run([airflow_bin(), *command], env=env, stdout=out,
                                  stderr=subprocess.STDOUT, check=False, timeout=600)
            if proc.returncode != 0:
                raise PilotError(f"`airflow {' '.join(command[:2])}` failed; see {log}")
    _write_private_json(last_import_record(s), generated_connections(s))


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
# The log servers of the scheduler and triggerer bind every interface (no setting for the host),
# and are not needed: every component writes to, and the API server reads from, one log folder
# (natively the same disk, in compose the shared airflow-logs volume).
SCHEDULER = _component("airflow-scheduler", ["scheduler", "--skip-serve-logs"],
                       partial(probes.airflow_component_ready, component="scheduler"))
DAG_PROCESSOR = _component("airflow-dag-processor", ["dag-processor"],
                           partial(probes.airflow_component_ready, component="dag_processor"))
TRIGGERER = _component("airflow-triggerer", ["triggerer", "--skip-serve-logs"],
                       partial(probes.airflow_component_ready, component="triggerer"))


def _worker(number: int) -> Service:
    """A Celery worker: takes task instances from the Redis queue and runs them as the LocalExecutor
    would. Started by `pilot stack up` when the executor is CeleryExecutor."""
    name = f"worker{number}"
    return Service(
        name=f"airflow-worker-{number}",
        ports=lambda s: (),
        address=lambda s: f"Celery {name} <- redis://{s.redis_host}:{s.redis_port}/{s.redis_celery_db}",
        command=lambda s: [airflow_bin(), "celery", "worker", "--skip-serve-logs", "--concurrency",
                           str(s.airflow_celery_concurrency), "--celery-hostname", f"{name}@%h"],
        ready=partial(probes.celery_worker_ready, worker=name),
        requires=("redis", "airflow-api-server"),
        env=lambda s: {**airflow_env(s), "PILOT_AIRFLOW_WORKER_NAME": name},
        start_timeout=120,
        stop_timeout=60,  # a warm shutdown lets running tasks finish
        hint="the Python environment (`make setup`) and PILOT_AIRFLOW_EXECUTOR=CeleryExecutor",
        optional=True,
        wanted_by=lambda s: s.uses_celery,
    )


WORKERS = (_worker(1), _worker(2))
