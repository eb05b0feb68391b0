"""The Hive SQL endpoint: Spark Thrift Server (HiveServer2 protocol) from pyspark."""

from __future__ import annotations

from pathlib import Path

from pilot.errors import PilotError
from pilot.settings import Settings
from stack import probes
from stack.config import render
from stack.jvm import classpath
from stack.services import postgres
from stack.services.base import Service

THRIFT_SERVER = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"


def spark_home() -> Path:
    try:
        import pyspark
    except ImportError as exc:
        raise PilotError("pyspark is not installed in this Python environment; run `make setup`.") from exc
    return Path(pyspark.__file__).resolve().parent


def prepare(s: Settings) -> None:
    render(s, "hive")
    for sub in ("tmp", "scratch", "local"):
        s.path("data", "hive", sub).mkdir(parents=True, exist_ok=True)
    if s.is_managed("postgres"):  # an external metastore database is made by its owner
        postgres.ensure_roles_and_databases(s, only=(s.hive_metastore_user,))
    derby = s.path("data", "hive", "metastore_db")
    if derby.is_dir():
        print(f"  hive: the metastore now lives in PostgreSQL (database {s.hive_metastore_db}); the old "
              f"Derby catalog at {derby} is no longer read, so its tables are unknown. The data is "
              f"simulated: start afresh with `make clean-state` and `make demo`.")


def driver_class_path(s: Settings) -> str:
    """The metastore's JDBC driver (Maven cache), for every Spark process that opens the metastore."""
    return classpath(s, "hive")


def command(s: Settings) -> list[str]:
    conf = s.path("conf", "hive")
    state = s.path("data", "hive")
    # Keep Jetty, Hive scratch and Spark spill files in var/, not /tmp.
    driver_opts = (f"-Dlog4j2.configurationFile=file:{conf / 'log4j2.properties'} "
                   f"-Dhive.log.file={s.path('logs', 'hive-server.log')} "
                   f"-Djava.io.tmpdir={state / 'tmp'}")
    return ["bash", str(spark_home() / "bin" / "spark-submit"),
            "--driver-memory", s.heap_hive,
            "--driver-class-path", driver_class_path(s),
            "--driver-java-options", driver_opts,
            "--class", THRIFT_SERVER, "spark-internal"]


def env(s: Settings) -> dict[str, str]:
    conf = str(s.path("conf", "hive"))
    return {"SPARK_HOME": str(spark_home()), "SPARK_CONF_DIR": conf, "HADOOP_CONF_DIR": conf,
            "HADOOP_USER_NAME": s.hdfs_user, "SPARK_LOCAL_IP": s.bind_host}


SERVICE = Service(
    name="hive",
    ports=lambda s: (s.hive_port,),
    address=lambda s: f"jdbc:hive2://{s.hive_host}:{s.hive_port}",
    command=command,
    requires=("postgres", "hdfs-datanode"),
    ready=probes.hive_ready,
    prepare=prepare,
    env=env,
    start_timeout=120,
    hint="pyspark from PyPI; metastore in PostgreSQL",
)
