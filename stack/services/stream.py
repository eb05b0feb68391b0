"""The always-on stream: the live collector and the real-time loader as supervised services.

Each runs under :mod:`stack.supervise` (restart after a crash with back-off), writes a heartbeat
file with its counts next to its pid file, and counts as ready while that heartbeat is fresh and
says ``running``. Optional: a plain `pilot stack up` leaves them off; `pilot stream start` (or
`pilot stack up --with stream`) starts them.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from pilot.settings import Settings
from stack.services.base import Service

FRESH_SECONDS = 15.0  # a heartbeat older than this means the process hangs or is gone
COLLECTOR = "stream-collector"
LOADER = "stream-loader"


def status_file(s: Settings, name: str) -> Path:
    return s.path("run", f"{name}.status.json")


def supervisor_file(s: Settings, name: str) -> Path:
    return s.path("run", f"{name}.supervisor.json")


def heartbeat(s: Settings, name: str) -> dict[str, Any] | None:
    """The service's last heartbeat, or None if it never wrote one."""
    try:
        return json.loads(status_file(s, name).read_text())
    except (OSError, ValueError):
        return None


def _ready(name: str) -> Any:
    def ready(s: Settings) -> bool:
        beat = heartbeat(s, name)
        return (beat is not None and beat.get("state") == "running"
                and time.time() - float(beat.get("updated_at", 0)) < FRESH_SECONDS)

    return ready


def _supervised(s: Settings, name: str, command: list[str]) -> list[str]:
    return [sys.executable, "-m", "stack.supervise", "--name", name, "--state", str(supervisor_file(s, name)),
            "--max-backoff", str(s.stream_max_backoff_seconds), "--",
            sys.executable, "-m", "orchestration.cli", *command, "--status-file", str(status_file(s, name))]


def collector_command(s: Settings) -> list[str]:
    pace = ["--rate", str(s.stream_rate)] if s.stream_rate else ["--speedup", str(s.stream_speedup)]
    return ["collect", "stream", "--date", s.stream_date, "--days", str(s.stream_days),
            "--cars", str(s.stream_cars), "--seed", str(s.stream_seed), *pace]


def loader_command(s: Settings) -> list[str]:
    # one static member per topic: a loader of another topic never inherits this one's partitions
    return ["load", "realtime", "--instance-id", f"{LOADER}-{s.topic_drive}-{s.bind_host}"]


def _prepare(name: str) -> Any:
    def prepare(s: Settings) -> None:
        status_file(s, name).unlink(missing_ok=True)  # readiness must come from this start

    return prepare


COLLECTOR_SERVICE = Service(
    name=COLLECTOR,
    ports=lambda s: (),
    address=lambda s: f"-> {s.kafka_bootstrap} {s.topic_drive}",
    command=lambda s: _supervised(s, COLLECTOR, collector_command(s)),
    ready=_ready(COLLECTOR),
    requires=("kafka",),
    prepare=_prepare(COLLECTOR),
    start_timeout=120,
    stop_timeout=60,
    optional=True,
    hint="the project's live collector (`pilot collect stream`)",
)

LOADER_SERVICE = Service(
    name=LOADER,
    ports=lambda s: (),
    address=lambda s: f"{s.topic_drive} -> HBase {s.hbase_table}, Redis",
    command=lambda s: _supervised(s, LOADER, loader_command(s)),
    ready=_ready(LOADER),
    requires=("kafka", "hbase-thrift", "redis"),
    prepare=_prepare(LOADER),
    start_timeout=120,
    stop_timeout=90,
    optional=True,
    hint="the project's real-time loader (`pilot load realtime`)",
)
