"""Render the service config templates of docker/ with values from the settings.

Placeholders are `${UPPER_CASE}` names; anything else (log4j's `${sys:...}`, `${hadoop.log.dir}`)
is left alone, so the files stay valid for the tools that read them.

The same template files are mounted into the containers of docker-compose.yml and rendered
there by the same code (`pilot stack render`), so both runtimes share one configuration.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

from pilot.errors import PilotError
from pilot.settings import REPO_ROOT, Settings

TEMPLATE_ROOT = REPO_ROOT / "docker"

# Which template files each runtime needs, relative to docker/.
TEMPLATES = {
    "hadoop": ["hadoop/core-site.xml", "hadoop/hdfs-site.xml", "hadoop/log4j.properties"],
    "kafka": ["kafka/server.properties", "kafka/log4j2.yaml"],
    "hbase": ["hbase/hbase-site.xml", "hbase/log4j2.properties"],
    "hive": ["hive/hive-site.xml", "hive/spark-defaults.conf", "hive/log4j2.properties"],
    "redis": ["redis/redis.conf"],
    "postgres": ["postgres/postgresql.conf", "postgres/pg_hba.conf"],
}


def template_values(settings: Settings) -> dict[str, str]:
    s = settings
    data = s.path("data")
    return {
        "BIND_HOST": s.bind_host,
        "VAR_DIR": str(s.var_dir),
        "HDFS_NAMENODE_HOST": s.hdfs_namenode_host,
        "HDFS_RPC_PORT": str(s.hdfs_rpc_port),
        "HDFS_HTTP_PORT": str(s.hdfs_http_port),
        "HDFS_DATANODE_HOSTNAME": s.hdfs_datanode_hostname,
        "HDFS_DATANODE_PORT": str(s.hdfs_datanode_port),
        "HDFS_DATANODE_HTTP_PORT": str(s.hdfs_datanode_http_port),
        "HDFS_DATANODE_IPC_PORT": str(s.hdfs_datanode_ipc_port),
        "HDFS_NAME_DIR": str(data / "hdfs" / "name"),
        "HDFS_DATA_DIR": str(data / "hdfs" / "data"),
        "HADOOP_TMP_DIR": str(data / "hdfs" / "tmp"),
        "HDFS_USER": s.hdfs_user,
        "HDFS_REPLICATION": str(s.hdfs_replication),
        "KAFKA_HOST": s.kafka_host,
        "KAFKA_ADVERTISED_HOST": s.kafka_host,
        "KAFKA_PORT": str(s.kafka_port),
        "KAFKA_CONTROLLER_PORT": str(s.kafka_controller_port),
        "KAFKA_LOG_DIRS": str(data / "kafka"),
        "KAFKA_PARTITIONS": str(s.kafka_partitions),
        "HBASE_ROOTDIR": f"{s.hdfs_uri}/hbase",  # tables and WAL on HDFS, as in any real deployment
        "HBASE_TMP_DIR": str(data / "hbase" / "tmp"),
        "HBASE_ZK_DATA_DIR": str(data / "hbase" / "zookeeper"),
        "HBASE_ZK_PORT": str(s.hbase_zk_port),
        "HBASE_THRIFT_PORT": str(s.hbase_thrift_port),
        "HBASE_MASTER_PORT": str(s.hbase_master_port),
        "HBASE_REGIONSERVER_PORT": str(s.hbase_regionserver_port),
        "HBASE_HOSTNAME": s.hbase_host,
        "HIVE_PORT": str(s.hive_port),
        "HIVE_STATE_DIR": str(data / "hive"),
        "HIVE_METASTORE_JDBC_URL": s.hive_metastore_jdbc_url,
        "HIVE_METASTORE_USER": s.hive_metastore_user,
        "HIVE_WAREHOUSE": s.hive_warehouse,
        "HIVE_SPARK_MASTER": s.hive_spark_master,
        "REDIS_PORT": str(s.redis_port),
        "REDIS_DATA_DIR": str(data / "redis"),
        "POSTGRES_PORT": str(s.postgres_port),
        "LOG_DIR": str(s.path("logs")),
    }


# Placeholders that stand for a secret (placeholder -> settings field): a template naming one is
# rendered into a private file.
SECRET_PLACEHOLDERS = {"HIVE_METASTORE_PASSWORD": "hive_metastore_password"}

PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


def render_text(text: str, values: dict[str, str], source: str = "template") -> str:
    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise PilotError(f"{source} uses an unknown placeholder ${{{name}}}")
        return values[name]

    return PLACEHOLDER.sub(substitute, text)


def render(settings: Settings, runtime: str, out_dir: Path | None = None,
           secrets: Mapping[str, str] | None = None) -> Path:
    """Render a runtime's templates into var/conf/<runtime>/ (or `out_dir`) and return it.

    ``secrets`` maps a file name to lines appended to it (a password kept out of the shared
    templates). A template may also name a secret placeholder (:data:`SECRET_PLACEHOLDERS`).
    Either way the file is private (mode 600) from its first byte, never chmodded afterwards.
    """
    out = out_dir or settings.path("conf", runtime)
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o755)  # noqa: S103 - services running as another user read their config
    secret_values = {name: str(getattr(settings, field)) for name, field in SECRET_PLACEHOLDERS.items()}
    secrets = secrets or {}
    for rel in TEMPLATES[runtime]:
        src = TEMPLATE_ROOT / rel
        template = src.read_text(encoding="utf-8")
        escape = xml_escape if src.suffix == ".xml" else str
        values = {**template_values(settings), **{k: escape(v) for k, v in secret_values.items()}}
        text = render_text(template, values, str(src))
        target = out / Path(rel).name
        private = target.name in secrets or any(f"${{{name}}}" in template for name in secret_values)
        if target.name in secrets:
            text = f"{text}\n{secrets[target.name]}\n"
        write_file(target, text, private=private)
    return out


def write_file(target: Path, text: str, private: bool = False) -> None:
    """Replace ``target`` atomically; a private file is created with mode 600 (no window)."""
    tmp = target.with_suffix(target.suffix + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    tmp.replace(target)
