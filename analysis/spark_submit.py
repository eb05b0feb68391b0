"""The ``spark-submit`` command and environment of a Spark analysis job (local mode by default).

The job gets the Hive endpoint's configuration (shared metastore in PostgreSQL, HDFS), rendered
into a folder of its own, the metastore's JDBC driver, and the settings as ``PILOT_*`` variables.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path

from pilot.settings import Settings, env_name

JOB_FILE = Path(__file__).with_name("spark_job.py")


def settings_env(s: Settings) -> dict[str, str]:
    """The settings as ``PILOT_*`` variables, so the job sees exactly these (Airflow's connections too)."""
    env: dict[str, str] = {}
    for f in fields(s):
        value = getattr(s, f.name)
        env[env_name(f.name)] = ",".join(value) if isinstance(value, tuple) else str(value)
    return env


def job_env(s: Settings, conf_dir: Path) -> dict[str, str]:
    from stack.services.hive import spark_home

    keep = {k: v for k, v in os.environ.items()
            if k in ("PATH", "HOME", "LANG", "LC_ALL", "JAVA_HOME", "TZ", "USER")}
    return {**keep, **settings_env(s), "SPARK_HOME": str(spark_home()), "SPARK_CONF_DIR": str(conf_dir),
            "HADOOP_CONF_DIR": str(conf_dir), "HADOOP_USER_NAME": s.hdfs_user, "SPARK_LOCAL_IP": s.bind_host,
            "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable,
            "PYTHONUNBUFFERED": "1"}


def submit_command(s: Settings, jobs: str | Sequence[str], job_args: list[str], conf_dir: Path) -> list[str]:
    """spark-submit of the job file for one job or several (one application, one after the other)."""
    from stack.services.hive import driver_class_path, spark_home

    jobs = [jobs] if isinstance(jobs, str) else list(jobs)
    job = "+".join(jobs)
    state = s.path("data", "spark-jobs")
    driver_opts = (f"-Djava.io.tmpdir={state / 'tmp'} "
                   f"-Dlog4j2.configurationFile=file:{conf_dir / 'log4j2.properties'} "
                   f"-Dhive.log.file={s.path('logs', f'spark-{job}.log')}")
    return ["bash", str(spark_home() / "bin" / "spark-submit"),
            "--master", s.spark_master, "--name", f"smartcar-{job}",
            "--driver-memory", s.heap_spark_job,
            "--driver-class-path", driver_class_path(s),
            "--driver-java-options", driver_opts,
            "--conf", "spark.ui.enabled=false",
            "--conf", f"spark.local.dir={state / 'local'}",
            "--conf", f"spark.app.name=smartcar-{job}",
            str(JOB_FILE), *jobs, *job_args]


def prepare_conf(s: Settings) -> Path:
    """The Hive endpoint's configuration (metastore, HDFS), rendered for the jobs' own use."""
    from stack.config import render

    for sub in ("tmp", "local"):
        s.path("data", "spark-jobs", sub).mkdir(parents=True, exist_ok=True)
    s.path("logs").mkdir(parents=True, exist_ok=True)
    return render(s, "hive", s.path("conf", "spark-jobs"))
