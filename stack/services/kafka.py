"""Kafka 4 in KRaft mode (one combined broker + controller) from Maven jars."""

from __future__ import annotations

import subprocess

from pilot.errors import PilotError
from pilot.settings import Settings
from stack import probes
from stack.config import render
from stack.jvm import java_command
from stack.services.base import Service


def _log_flags(s: Settings) -> list[str]:
    conf = s.path("conf", "kafka")
    return [f"-Dlog4j2.configurationFile=file:{conf / 'log4j2.yaml'}",
            f"-Dkafka.log.file={s.path('logs', 'kafka-server.log')}"]


def prepare(s: Settings) -> None:
    conf = render(s, "kafka")
    if (s.path("data", "kafka", "meta.properties")).is_file():
        return
    cmd = java_command(s, "kafka", conf, "256m", "kafka.tools.StorageTool",
                       ["format", "-t", s.kafka_cluster_id, "-c", str(conf / "server.properties"),
                        "--ignore-formatted"], _log_flags(s))
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise PilotError(f"formatting Kafka storage failed:\n{proc.stdout}{proc.stderr}")


def command(s: Settings) -> list[str]:
    conf = s.path("conf", "kafka")
    return java_command(s, "kafka", conf, s.heap_kafka, "kafka.Kafka",
                        [str(conf / "server.properties")], _log_flags(s))


def bootstrap(s: Settings) -> None:
    from ingest.topics import ensure_topics

    ensure_topics(s)


SERVICE = Service(
    name="kafka",
    ports=lambda s: (s.kafka_port, s.kafka_controller_port),
    address=lambda s: s.kafka_bootstrap,
    command=command,
    ready=probes.kafka_ready,
    prepare=prepare,
    bootstrap=bootstrap,
    start_timeout=90,
    hint="jars from docker/kafka/pom.xml",
)
