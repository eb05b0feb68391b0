from __future__ import annotations

import json
from pathlib import Path

import pytest

from pilot.settings import ALL_SERVICES, SECRET_FIELDS, airflow_connections, env_name, load_settings


def _load(tmp_path: Path, **env: str):
    return load_settings({"PILOT_VAR_DIR": str(tmp_path / "var"), **env}, env_file=tmp_path / ".env")


def test_defaults_are_native_loopback(tmp_path: Path) -> None:
    s = _load(tmp_path)
    assert s.bind_host == "127.0.0.1"
    assert s.kafka_bootstrap == "127.0.0.1:9092"
    assert s.webhdfs_url == "http://127.0.0.1:9870"
    assert s.managed_services == ALL_SERVICES
    topics = (s.topic_status, s.topic_drive, s.topic_dlq)
    assert topics == ("smartcar-status", "SmartCar-Topic", "smartcar-dlq")


def test_environment_overrides_with_types(tmp_path: Path) -> None:
    s = _load(tmp_path, PILOT_KAFKA_PORT="19092", PILOT_OVERSPEED_SPEED_KMH="95.5",
              PILOT_MANAGED_SERVICES="redis, postgres", PILOT_KAFKA_HOST="broker1")
    assert s.kafka_port == 19092
    assert s.kafka_bootstrap == "broker1:19092"
    assert s.overspeed_speed_kmh == 95.5
    assert s.managed_services == ("redis", "postgres")
    assert not s.is_managed("kafka")


def test_env_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("# comment\nPILOT_REDIS_PORT=7000\nexport PILOT_HIVE_PORT='10001'\n")
    s = _load(tmp_path, PILOT_REDIS_PORT="7001")
    assert s.redis_port == 7001
    assert s.hive_port == 10001


def test_bad_values_are_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="PILOT_KAFKA_PORT"):
        _load(tmp_path, PILOT_KAFKA_PORT="many")
    with pytest.raises(ValueError, match="unknown services"):
        _load(tmp_path, PILOT_MANAGED_SERVICES="kafka,zookeeper")


def test_secrets_are_generated_once_private_and_stable(tmp_path: Path) -> None:
    first = _load(tmp_path)
    secrets_file = tmp_path / "var" / "secrets.env"
    assert secrets_file.stat().st_mode & 0o777 == 0o600
    second = _load(tmp_path)
    for name in SECRET_FIELDS:
        assert getattr(first, name), name
        assert getattr(first, name) == getattr(second, name)
    assert len({first.redis_password, first.postgres_password, first.airflow_admin_password}) == 3


def test_given_secret_wins_and_is_masked(tmp_path: Path) -> None:
    s = _load(tmp_path, PILOT_REDIS_PASSWORD="from-env")
    assert s.redis_password == "from-env"
    assert s.redacted()["redis_password"] == "***"
    assert "from-env" not in repr(s)


def test_airflow_connections_follow_settings(tmp_path: Path) -> None:
    s = _load(tmp_path, PILOT_HIVE_PORT="10005", PILOT_KAFKA_HOST="k1")
    conns = {k: json.loads(v) for k, v in airflow_connections(s).items()}
    assert conns["AIRFLOW_CONN_HIVESERVER2_DEFAULT"]["port"] == 10005
    assert conns["AIRFLOW_CONN_KAFKA_DEFAULT"]["extra"]["bootstrap.servers"] == "k1:9092"
    assert conns["AIRFLOW_CONN_REDIS_DEFAULT"]["password"] == s.redis_password
    assert conns["AIRFLOW_CONN_POSTGRES_DEFAULT"]["schema"] == s.postgres_db
    assert conns["AIRFLOW_CONN_WEBHDFS_DEFAULT"]["port"] == s.hdfs_http_port
    assert conns["AIRFLOW_CONN_HBASE_DEFAULT"]["port"] == s.hbase_thrift_port


def test_every_field_has_an_env_name() -> None:
    assert env_name("kafka_port") == "PILOT_KAFKA_PORT"
