"""What the stack manager needs to know about one service."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pilot.settings import Settings


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
    hint: str = ""

    def pid_file(self, s: Settings) -> Path:
        return s.path("run", f"{self.name}.pid")

    def log_file(self, s: Settings) -> Path:
        return s.path("logs", f"{self.name}.log")

    def cwd(self, s: Settings) -> Path:
        path = s.path("data", self.name)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def process_env(self, s: Settings) -> dict[str, str]:
        env = dict(os.environ)
        # Airflow spawns its workers as a bare `airflow`: the venv's bin must be on PATH.
        venv_bin = str(Path(sys.executable).parent)
        env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
        env.update(self.env(s))
        return env
