"""DAG tasks find the services through the Airflow connections: editing one moves the tasks."""

from __future__ import annotations

import json

import pytest
from smartcar_plugins.connections import connected_settings

from pilot.errors import PilotError
from pilot.settings import Settings, airflow_connections


@pytest.fixture
def generated(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The connections `pilot stack up` gives Airflow, in the environment."""
    s = Settings(redis_password="r-secret", postgres_password="p-secret")
    for name, value in airflow_connections(s).items():
        monkeypatch.setenv(name, value)
    return s


def test_generated_connections_lead_to_the_settings_endpoints(generated: Settings) -> None:
    s = connected_settings(Settings())
    for field in ("hdfs_namenode_host", "hdfs_http_port", "hdfs_user", "hive_host", "hive_port", "hive_user",
                  "hive_database", "kafka_bootstrap", "hbase_host", "hbase_thrift_port", "hbase_table",
                  "redis_host", "redis_port", "redis_password", "redis_db", "postgres_dsn"):
        assert getattr(s, field) == getattr(generated, field), field


def test_an_edited_connection_moves_the_tasks(generated: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WEBHDFS_DEFAULT", json.dumps(
        {"conn_type": "webhdfs", "host": "nn.example.internal", "port": 50070, "login": "etl"}))
    monkeypatch.setenv("AIRFLOW_CONN_POSTGRES_DEFAULT", json.dumps(
        {"conn_type": "postgres", "host": "db.example.internal", "port": 6432, "login": "marts",
         "password": "pw", "schema": "warehouse"}))
    monkeypatch.setenv("AIRFLOW_CONN_KAFKA_DEFAULT", json.dumps(
        {"conn_type": "kafka", "extra": {"bootstrap.servers": "broker1.example.internal:19092,b2:9092"}}))
    s = connected_settings(Settings())
    assert (s.hdfs_namenode_host, s.hdfs_http_port, s.hdfs_user) == ("nn.example.internal", 50070, "etl")
    assert s.webhdfs_url == "http://nn.example.internal:50070"
    assert s.postgres_dsn == "postgresql://marts:pw@db.example.internal:6432/warehouse"
    assert s.kafka_bootstrap == "broker1.example.internal:19092"
    assert s.hive_host == generated.hive_host


def test_a_missing_connection_is_named(generated: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_HBASE_DEFAULT")
    with pytest.raises(PilotError, match="hbase_default"):
        connected_settings(Settings())
