"""Every service of the stack, in start order (stop runs in reverse)."""

from __future__ import annotations

from pilot.errors import PilotError
from stack.services import airflow, hbase, hdfs, hive, kafka, model_api, postgres, redis, stream
from stack.services.base import Service

SERVICES: tuple[Service, ...] = (
    postgres.SERVICE,
    redis.SERVICE,
    hdfs.NAMENODE,
    hdfs.DATANODE,
    kafka.SERVICE,
    hbase.MASTER,
    hbase.THRIFT,
    hive.SERVICE,
    model_api.SERVICE,
    stream.LOADER_SERVICE,  # the consumer first: it is there when the events start to flow
    stream.COLLECTOR_SERVICE,
    airflow.API_SERVER,
    airflow.SCHEDULER,
    airflow.DAG_PROCESSOR,
    airflow.TRIGGERER,
    *airflow.WORKERS,  # CeleryExecutor only
)

BY_NAME = {svc.name: svc for svc in SERVICES}


def get(name: str) -> Service:
    try:
        return BY_NAME[name]
    except KeyError:
        raise PilotError(f"unknown service {name!r}; known: {', '.join(BY_NAME)}") from None


GROUPS = {"stream": (stream.LOADER, stream.COLLECTOR)}


def expand(names: list[str]) -> list[str]:
    """Service names with groups (``stream``) replaced by their members."""
    return [member for name in names for member in GROUPS.get(name, (name,))]


def with_requirements(names: list[str]) -> list[Service]:
    """The named services and everything they need, in start order."""
    wanted: set[str] = set()

    def add(name: str) -> None:
        if name in wanted:
            return
        wanted.add(name)
        for dep in get(name).requires:
            add(dep)

    for name in names:
        add(name)
    return [svc for svc in SERVICES if svc.name in wanted]
