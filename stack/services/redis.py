"""Redis from the Debian package: overspeed alerts and the latest state per car."""

from __future__ import annotations

import shutil

from pilot.errors import PilotError
from pilot.settings import Settings
from stack import probes
from stack.config import render
from stack.services.base import Service


def prepare(s: Settings) -> None:
    # The password is appended here, not kept in the shared template.
    render(s, "redis", secrets={"redis.conf": f"requirepass {s.redis_password}"})
    s.path("data", "redis").mkdir(parents=True, exist_ok=True)


def command(s: Settings) -> list[str]:
    server = shutil.which("redis-server")
    if not server:
        raise PilotError("`redis-server` not found; install the Debian package `redis-server` "
                         "(or run `make setup`).")
    return [server, str(s.path("conf", "redis", "redis.conf"))]


SERVICE = Service(
    name="redis",
    ports=lambda s: (s.redis_port,),
    address=lambda s: f"{s.redis_host}:{s.redis_port}",
    command=command,
    ready=probes.redis_ready,
    prepare=prepare,
    start_timeout=30,
    hint="Debian package `redis-server`",
)
