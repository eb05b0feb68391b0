"""The single source of truth for hosts, ports, paths, topics, thresholds and credentials.

Every field can be overridden by an environment variable named ``PILOT_<FIELD>`` (upper case),
or by the same line in a git-ignored ``.env`` file at the repository root. Environment wins over
``.env``. Secrets that are not given are generated once and kept in ``var/secrets.env``.

Point the project at an existing cluster by overriding hosts and ports (for example
``PILOT_KAFKA_BOOTSTRAP=broker1:9092``) and removing that service from ``PILOT_MANAGED_SERVICES``
so that ``pilot stack up`` only checks it instead of starting it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

REPO_ROOT = Path(__file__).resolve().parent.parent

ALL_SERVICES = (
    "postgres",
    "redis",
    "hdfs-namenode",
    "hdfs-datanode",
    "kafka",
    "hbase",
    "hbase-thrift",
    "hive",
    "model-api",
    "stream-loader",
    "stream-collector",
    "airflow-api-server",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker-1",
    "airflow-worker-2",
)

SECRET_FIELDS = (
    "postgres_superuser_password",
    "postgres_password",
    "airflow_db_password",
    "hive_metastore_password",
    "redis_password",
    "airflow_admin_password",
    "airflow_secret_key",
    "airflow_jwt_secret",
    "airflow_fernet_key",
)


@dataclass(frozen=True)
class Settings:
    # Where state (data, logs, pid files, rendered configs, generated secrets) lives.
    var_dir: Path = REPO_ROOT / "var"
    # Address every native service listens on. Containers use 0.0.0.0.
    bind_host: str = "127.0.0.1"
    # Services `pilot stack up` starts; the others are expected to run elsewhere.
    managed_services: tuple[str, ...] = ALL_SERVICES

    # HDFS
    hdfs_namenode_host: str = "127.0.0.1"
    hdfs_rpc_port: int = 8020
    hdfs_http_port: int = 9870
    hdfs_datanode_hostname: str = "127.0.0.1"
    hdfs_datanode_port: int = 9866
    hdfs_datanode_http_port: int = 9864
    hdfs_datanode_ipc_port: int = 9867
    hdfs_user: str = "pilot"
    hdfs_root: str = "/pilot-pjt"
    # copies of each block (HBase's WAL and HFiles included); 1 on one machine, 3 on a cluster
    hdfs_replication: int = 1

    # Kafka
    kafka_host: str = "127.0.0.1"
    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    kafka_cluster_id: str = "c21hcnRjYXItcGlsb3QwMQ"
    kafka_partitions: int = 3
    # copies of each topic partition on different brokers (1 on one machine, 3 on a cluster)
    kafka_replication_factor: int = 1
    kafka_retention_hours: int = 168
    topic_status: str = "smartcar-status"
    topic_drive: str = "SmartCar-Topic"
    topic_dlq: str = "smartcar-dlq"
    # where collectors record how far they got in each source, inside their Kafka transactions
    topic_collect_ledger: str = "smartcar-collect-ledger"

    # HBase (standalone, embedded ZooKeeper) and its Thrift v1 gateway
    hbase_host: str = "127.0.0.1"
    hbase_thrift_port: int = 9090
    hbase_zk_port: int = 2181
    hbase_master_port: int = 16000
    hbase_regionserver_port: int = 16020
    hbase_table: str = "DriverCarInfo"
    hbase_family: str = "cf1"
    # storage of the table's family: the encoding stores each cell's key as a difference to the one
    # before (row keys and qualifiers repeat), the codec compresses the blocks (zstd-jni, a Maven jar)
    hbase_block_encoding: str = "FAST_DIFF"
    hbase_compression: str = "zstd"
    # The DAG's real-time load of a day of at least this many driving events (a past day, replayed)
    # hands its rows to HBase by bulk load instead of puts; 0 = always puts
    realtime_bulk_min_events: int = 1_000_000

    # Hive SQL endpoint (Spark Thrift Server, HiveServer2 protocol)
    hive_host: str = "127.0.0.1"
    hive_port: int = 10000
    hive_user: str = "pilot"
    hive_database: str = "default"
    # a statement running longer is cancelled by the endpoint (spark.sql.thriftServer.queryTimeout)
    hive_query_timeout_seconds: int = 14400
    # The Hive metastore (the catalog every Spark process shares) lives in the stack's PostgreSQL.
    hive_metastore_db: str = "metastore"
    hive_metastore_user: str = "hive"

    # The prediction service (FastAPI): the newest published style model, re-read when a newer appears.
    model_api_host: str = "127.0.0.1"
    model_api_port: int = 9001
    model_api_reload_seconds: float = 10.0

    # The always-on stream (`pilot stream start`): the live collector produces simulated days from
    # stream_date on (stream_days of them, 0 = without end), paced at stream_rate events/s or else
    # stream_speedup x simulated time (20: the classic pilot's load of 1,000 events/s for 100 cars);
    # the real-time loader follows it continuously.
    stream_date: str = "20200322"
    stream_days: int = 0
    stream_cars: int = 100
    stream_seed: int = 42
    stream_rate: float = 0.0
    stream_speedup: float = 20.0
    # a supervised process restarts after a crash, waiting 1, 2, 4 ... up to this many seconds
    stream_max_backoff_seconds: float = 30.0

    # The end-to-end DAG's own schedule (cron, UTC); each scheduled run works on the day that ended
    # when it ran (its data interval start) with this fleet; "off" = manual runs only. `pilot schedule
    # set` overrides these in var/schedule.json, which the DAG processor reads when it parses the DAG.
    schedule_cron: str = "0 1 * * *"
    schedule_cars: int = 100
    schedule_seed: int = 42

    # Redis
    redis_host: str = "127.0.0.1"
    redis_port: int = 6379
    redis_db: int = 0

    # PostgreSQL: Airflow metadata and the export target live in separate databases and roles.
    postgres_host: str = "127.0.0.1"
    postgres_port: int = 5432
    postgres_superuser: str = "postgres"
    postgres_user: str = "pilot"
    postgres_db: str = "pilot"
    airflow_db: str = "airflow"
    airflow_db_user: str = "airflow"
    postgres_connect_timeout_seconds: int = 10
    postgres_statement_timeout_seconds: int = 7200

    # Airflow
    airflow_host: str = "127.0.0.1"
    airflow_port: int = 8080
    airflow_admin_user: str = "admin"
    airflow_parallelism: int = 4
    # LocalExecutor runs tasks on this machine; CeleryExecutor queues them in the stack's Redis
    # (database redis_celery_db), keeps results in Airflow's PostgreSQL database, and `pilot stack up`
    # starts two Celery workers (airflow-worker-1, -2; more can run on other machines)
    airflow_executor: str = "LocalExecutor"
    airflow_celery_concurrency: int = 2
    redis_celery_db: int = 1

    # Domain rules (DOMAIN.md): configuration, not code.
    overspeed_window_seconds: int = 30
    overspeed_speed_kmh: float = 80.0
    alert_ttl_days: int = 7
    symptom_z_threshold: float = 2.0
    sharp_turn_share_threshold: float = 0.30
    tire_threshold: float = 80.0
    battery_threshold: float = 30.0

    # JVM heaps, sized for a 2-core, 24 GB machine.
    heap_namenode: str = "512m"
    heap_datanode: str = "512m"
    heap_kafka: str = "512m"
    heap_hbase: str = "1g"
    heap_hbase_thrift: str = "384m"
    heap_hive: str = "1g"
    heap_spark_job: str = "1g"

    # Spark analysis jobs (spark-submit) and the Hive SQL endpoint's own Spark driver; a cluster URL
    # (spark://host:7077, yarn) scales them out.
    spark_master: str = "local[2]"
    hive_spark_master: str = "local[2]"

    # Secrets: from the environment, .env, or generated on first use into var/secrets.env.
    postgres_superuser_password: str = field(default="", repr=False)
    postgres_password: str = field(default="", repr=False)
    airflow_db_password: str = field(default="", repr=False)
    hive_metastore_password: str = field(default="", repr=False)
    redis_password: str = field(default="", repr=False)
    airflow_admin_password: str = field(default="", repr=False)
    airflow_secret_key: str = field(default="", repr=False)
    airflow_jwt_secret: str = field(default="", repr=False)
    airflow_fernet_key: str = field(default="", repr=False)

    # ---- derived values -------------------------------------------------------------------
    @property
    def kafka_bootstrap(self) -> str:
        return f"{self.kafka_host}:{self.kafka_port}"

    @property
    def webhdfs_url(self) -> str:
        return f"http://{self.hdfs_namenode_host}:{self.hdfs_http_port}"

    @property
    def hdfs_uri(self) -> str:
        return f"hdfs://{self.hdfs_namenode_host}:{self.hdfs_rpc_port}"

    @property
    def hive_warehouse(self) -> str:
        return f"{self.hdfs_uri}/user/hive/warehouse"

    @property
    def model_api_url(self) -> str:
        return f"http://{self.model_api_host}:{self.model_api_port}"

    @property
    def airflow_url(self) -> str:
        return f"http://{self.airflow_host}:{self.airflow_port}"

    @property
    def collect_dir(self) -> str:
        return f"{self.hdfs_root}/collect"

    @property
    def hdfs_status_dir(self) -> str:
        return f"{self.collect_dir}/car-batch-log"

    @property
    def hdfs_drive_dir(self) -> str:
        return f"{self.collect_dir}/drive-log"

    @property
    def hdfs_master_dir(self) -> str:
        return f"{self.collect_dir}/car-master"

    @property
    def hdfs_buylist_dir(self) -> str:
        return f"{self.collect_dir}/buy-list"

    @property
    def postgres_dsn(self) -> str:
        return _pg_dsn(self.postgres_host, self.postgres_port, self.postgres_user,
                       self.postgres_password, self.postgres_db)

    @property
    def hive_metastore_jdbc_url(self) -> str:
        return f"jdbc:postgresql://{self.postgres_host}:{self.postgres_port}/{self.hive_metastore_db}"

    @property
    def airflow_sqlalchemy_url(self) -> str:
        password = quote(self.airflow_db_password, safe="")
        return (f"postgresql+psycopg2://{self.airflow_db_user}:{password}"
                f"@{self.postgres_host}:{self.postgres_port}/{self.airflow_db}")

    @property
    def uses_celery(self) -> bool:
        return self.airflow_executor == "CeleryExecutor"

    @property
    def celery_broker_url(self) -> str:
        password = quote(self.redis_password, safe="")
        return f"redis://:{password}@{self.redis_host}:{self.redis_port}/{self.redis_celery_db}"

    @property
    def celery_result_backend(self) -> str:
        return "db+" + self.airflow_sqlalchemy_url.replace("postgresql+psycopg2://", "postgresql://", 1)

    def path(self, *parts: str) -> Path:
        return self.var_dir.joinpath(*parts)

    def is_managed(self, service: str) -> bool:
        return service in self.managed_services

    def redacted(self) -> dict[str, Any]:
        """All settings as plain values, with secrets masked (for `pilot settings`)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in SECRET_FIELDS:
                value = "***" if value else ""
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = ",".join(value)
            out[f.name] = value
        return out


def _pg_dsn(host: str, port: int, user: str, password: str, db: str) -> str:
    return f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}/{db}"


def env_name(field_name: str) -> str:
    return f"PILOT_{field_name.upper()}"


def read_env_file(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines (comments, blank lines and optional quotes allowed)."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def _convert(raw: str, default: Any, name: str) -> Any:
    try:
        if isinstance(default, bool):
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, Path):
            return Path(raw).expanduser().resolve()
        if isinstance(default, tuple):
            return tuple(part.strip() for part in raw.split(",") if part.strip())
    except ValueError as exc:
        raise ValueError(f"{env_name(name)}={raw!r} is not a valid {type(default).__name__}") from exc
    return raw


def _generate_secret(name: str) -> str:
    if name == "airflow_fernet_key":
        import base64

        return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    return secrets.token_urlsafe(18)


def _load_or_create_secrets(path: Path, given: dict[str, str]) -> dict[str, str]:
    stored = read_env_file(path)
    missing = [n for n in SECRET_FIELDS if not given.get(n) and not stored.get(env_name(n))]
    if missing:
        path.parent.mkdir(parents=True, exist_ok=True)
        for name in missing:
            stored[env_name(name)] = _generate_secret(name)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("# Generated by smartcar-pilot on first use. Delete var/ to start afresh.\n")
            for key, value in sorted(stored.items()):
                out.write(f"{key}={value}\n")
        tmp.replace(path)
    return {n: given.get(n) or stored[env_name(n)] for n in SECRET_FIELDS}


def load_settings(environ: dict[str, str] | None = None, env_file: Path | None = None) -> Settings:
    """Build settings from defaults, then `.env`, then the environment."""
    environ = dict(os.environ if environ is None else environ)
    file_values = read_env_file(env_file if env_file is not None else REPO_ROOT / ".env")
    merged = {**file_values, **environ}
    values: dict[str, Any] = {}
    defaults = Settings()
    for f in fields(Settings):
        raw = merged.get(env_name(f.name))
        if raw is not None and raw != "":
            values[f.name] = _convert(raw, getattr(defaults, f.name), f.name)
    unknown = set(values.get("managed_services", ())) - set(ALL_SERVICES)
    if unknown:
        raise ValueError(f"PILOT_MANAGED_SERVICES names unknown services: {sorted(unknown)}; "
                         f"known: {', '.join(ALL_SERVICES)}")
    settings = dataclasses.replace(defaults, **values)
    given = {n: values.get(n, "") for n in SECRET_FIELDS}
    return dataclasses.replace(settings, **_load_or_create_secrets(settings.path("secrets.env"), given))


@cache
def get_settings() -> Settings:
    return load_settings()


def airflow_connections(s: Settings) -> dict[str, str]:
    """`AIRFLOW_CONN_*` variables for every service, derived from the settings (JSON form)."""

    def conn(**kw: Any) -> str:
        return json.dumps({k: v for k, v in kw.items() if v not in (None, "")})

    return {
        "AIRFLOW_CONN_WEBHDFS_DEFAULT": conn(conn_type="webhdfs", host=s.hdfs_namenode_host,
                                             port=s.hdfs_http_port, login=s.hdfs_user),
        "AIRFLOW_CONN_HIVESERVER2_DEFAULT": conn(conn_type="hiveserver2", host=s.hive_host,
                                                 port=s.hive_port, login=s.hive_user,
                                                 schema=s.hive_database),
        "AIRFLOW_CONN_KAFKA_DEFAULT": conn(conn_type="kafka",
                                           extra={"bootstrap.servers": s.kafka_bootstrap}),
        "AIRFLOW_CONN_HBASE_DEFAULT": conn(conn_type="hbase", host=s.hbase_host,
                                           port=s.hbase_thrift_port,
                                           extra={"table": s.hbase_table, "family": s.hbase_family}),
        "AIRFLOW_CONN_REDIS_DEFAULT": conn(conn_type="redis", host=s.redis_host, port=s.redis_port,
                                           password=s.redis_password, extra={"db": s.redis_db}),
        "AIRFLOW_CONN_POSTGRES_DEFAULT": conn(conn_type="postgres", host=s.postgres_host,
                                              port=s.postgres_port, login=s.postgres_user,
                                              password=s.postgres_password, schema=s.postgres_db),
    }
