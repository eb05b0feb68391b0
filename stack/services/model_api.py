"""The prediction service (`analysis.serving`, FastAPI on uvicorn): the driving-style model over REST,
and the dashboard (`dashboard.web`) at /dashboard."""

from __future__ import annotations

import sys

from pilot.settings import Settings
from stack import probes
from stack.services.base import Service


def command(s: Settings) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "--factory", "orchestration.web:create_app",
            "--host", s.bind_host, "--port", str(s.model_api_port), "--no-access-log", "--log-level", "info"]


SERVICE = Service(
    name="model-api",
    ports=lambda s: (s.model_api_port,),
    address=lambda s: s.model_api_url,
    command=command,
    ready=probes.model_api_ready,
    ui=lambda s: f"{s.model_api_url}/docs",
    requires=("postgres", "hdfs-datanode", "redis"),
    start_timeout=60,
    hint="FastAPI + uvicorn from PyPI",
)
