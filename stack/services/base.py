"""What the stack manager needs to know about one service."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pilot.settings import Settings

# The caller's environment may hold anything (cloud keys, tokens of other tools): a service gets
# only what any process needs to run, the project's own settings, and its service's variables.
INHERITED_NAMES = frozenset({"PATH", "HOME", "USER", "LOGNAME", "LANG", "TZ", "TMPDIR", "JAVA_HOME",
                             "VIRTUAL_ENV"})
INHERITED_PREFIXES = ("LC_", "PILOT_")


def inherited_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The part of ``environ`` (default: this process's) that service processes may see."""
    environ = os.environ if environ is None else environ
    env = {k: v for k, v in environ.items() if k in INHERITED_NAMES or k.startswith(INHERITED_PREFIXES)}
    # Airflow spawns its workers as a bare `airflow`: the venv's bin must be on PATH.
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", os.defpath)
    return env


@dataclass(frozen=True)
class Service:
    name: str
    # ports this service listens on (checked for conflicts before start)
    ports: Callable[[Settings], tuple[int, ...]]
    # host:port a client uses, and a web UI if any
    address: Callable[[Settings], str]
    command: Callable[[Settings], list[str]]
    ready: Callable[[Settings], bool]
    ui: Callable[[Settings], str] | None = None
    # services that must be up first
    requires: tuple[str, ...] = ()
    # one-time, idempotent preparation before the first start (format, initdb, render configs)
    prepare: Callable[[Settings], None] | None = None
    # idempotent bootstrap once ready (roles, databases, topics, tables)
    bootstrap: Callable[[Settings], None] | None = None
    env: Callable[[Settings], dict[str, str]] = field(default=lambda s: {})
    run_as: Callable[[Settings], str | None] = field(default=lambda s: None)
    start_timeout: float = 120.0
    stop_timeout: float = 30.0
    stop_signal: int = signal.SIGTERM  # sent to the service's process group by `pilot stack down`
    hint: str = ""
    # off unless asked for: not started by a plain `pilot stack up`, and not a failure when off
    optional: bool = False
    # an optional service that a plain `pilot stack up` starts when the settings ask for it (the
    # Celery workers under PILOT_AIRFLOW_EXECUTOR=CeleryExecutor); then it is a failure when down
    wanted_by: Callable[[Settings], bool] = field(default=lambda s: False)

    def starts_by_default(self, s: Settings) -> bool:
        return not self.optional or self.wanted_by(s)

    def pid_file(self, s: Settings) -> Path:
        return s.path("run", f"{self.name}.pid")

    def log_file(self, s: Settings) -> Path:
        return s.path("logs", f"{self.name}.log")

    def cwd(self, s: Settings) -> Path:
        path = s.path("data", self.name)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def process_env(self, s: Settings) -> dict[str, str]:
        return {**inherited_env(), **self.env(s)}
