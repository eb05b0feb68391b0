"""`pilot stack up` puts the generated connections in Airflow's DB, where the UI can edit them."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from airflow.secrets.local_filesystem import load_connections_dict
from smartcar_plugins.connections import endpoints

from pilot.settings import Settings
from stack.services.airflow import (
    airflow_env,
    connection_imports,
    connections_to_overwrite,
    generated_connections,
    last_import_record,
)


def _settings(tmp_path: Path, **fields: object) -> Settings:
    return Settings(var_dir=tmp_path / "var", redis_password="r-secret", postgres_password="p-secret",
                    **fields)


def test_import_file_reads_back_as_the_settings_endpoints(tmp_path: Path) -> None:
    s = _settings(tmp_path, hive_port=10005, kafka_host="k1")
    commands = connection_imports(s)
    assert commands == [["connections", "import", commands[0][-1]]]
    import_file = Path(commands[0][-1])
    assert stat.S_IMODE(import_file.stat().st_mode) == 0o600, "the file holds passwords"
    conns = load_connections_dict(str(import_file))
    assert set(conns) == set(generated_connections(s))
    read_back = endpoints(Settings(), conns)
    for field in ("hive_port", "kafka_bootstrap", "hbase_table", "redis_password", "redis_db", "postgres_dsn",
                  "hdfs_http_port"):
        assert getattr(read_back, field) == getattr(s, field), field


def test_environment_does_not_shadow_the_connections_in_the_db(tmp_path: Path) -> None:
    assert not [k for k in airflow_env(_settings(tmp_path)) if k.startswith("AIRFLOW_CONN_")]


def test_only_connections_whose_settings_changed_are_overwritten(tmp_path: Path) -> None:
    before = generated_connections(_settings(tmp_path))
    after = generated_connections(_settings(tmp_path, hive_port=10005))
    assert connections_to_overwrite(after, before) == ["hiveserver2_default"]
    assert connections_to_overwrite(before, before) == []
    assert connections_to_overwrite(after, {}) == [], "first import adds, never replaces"


def test_a_changed_setting_adds_an_overwrite_import(tmp_path: Path) -> None:
    s = _settings(tmp_path)
    record = last_import_record(s)
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps(generated_connections(_settings(tmp_path, redis_port=6390))))
    commands = connection_imports(s)
    assert commands[0][:3] == ["connections", "import", "--overwrite"]
    assert list(json.loads(Path(commands[0][-1]).read_text())) == ["redis_default"]
    assert commands[1][:2] == ["connections", "import"] and "--overwrite" not in commands[1]
