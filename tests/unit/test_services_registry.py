from __future__ import annotations

from pathlib import Path

import pytest

from pilot.errors import PilotError
from pilot.settings import ALL_SERVICES, load_settings
from stack import services


@pytest.fixture
def settings(tmp_path: Path):
    return load_settings({"PILOT_VAR_DIR": str(tmp_path / "var")}, env_file=tmp_path / ".env")


def test_registry_matches_settings_and_order() -> None:
    assert tuple(svc.name for svc in services.SERVICES) == ALL_SERVICES
    position = {svc.name: i for i, svc in enumerate(services.SERVICES)}
    for svc in services.SERVICES:
        for dep in svc.requires:
            assert position[dep] < position[svc.name], (svc.name, dep)


def test_requirements_are_pulled_in_in_start_order() -> None:
    names = [svc.name for svc in services.with_requirements(["hive", "airflow-scheduler"])]
    assert names == ["postgres", "hdfs-namenode", "hdfs-datanode", "hive", "airflow-api-server",
                     "airflow-scheduler"]


def test_unknown_service_is_named() -> None:
    with pytest.raises(PilotError, match="zookeeper"):
        services.get("zookeeper")


def test_ports_are_distinct_and_from_settings(settings) -> None:
    seen: dict[int, str] = {}
    for svc in services.SERVICES:
        for port in svc.ports(settings):
            assert seen.setdefault(port, svc.name) == svc.name, f"port {port} used twice"
    assert settings.kafka_port in seen and settings.hive_port in seen and settings.airflow_port in seen


def test_state_paths_live_under_var(settings) -> None:
    for svc in services.SERVICES:
        assert settings.var_dir in svc.pid_file(settings).parents
        assert settings.var_dir in svc.log_file(settings).parents
