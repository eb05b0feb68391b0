"""Start a Spark analysis job (:mod:`analysis.spark_job`) with ``spark-submit`` and wait for it.

The job is a Spark application of its own (local mode by default, heap ``PILOT_HEAP_SPARK_JOB``;
``PILOT_SPARK_MASTER`` points it at a cluster). It shares the Hive metastore in PostgreSQL with the
Hive SQL endpoint, so its tables are at once visible to ``pilot sql``, beeline and the exporter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

from marts.config import MartConfig
from pilot.dates import Day
from pilot.errors import PilotError
from pilot.settings import Settings, env_name, get_settings

JOBS = ("recommend", "classify", "cluster")
JOB_FILE = Path(__file__).with_name("spark_job.py")
SHOWN_LINES = 25
# Spark and Hadoop warnings that say nothing to a user of the pilot.
QUIET = ("WARN NativeCodeLoader", "WARN Utils: Service", "WARNING: Using incubator modules",
         "WARN HiveConf", "WARN ObjectStore", "WARN SparkStringUtils", "WARN package:")

Log = Callable[[str], None]


class JobFailed(PilotError):
    """A Spark analysis job exited with an error."""


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


def submit_command(s: Settings, job: str, job_args: list[str], conf_dir: Path) -> list[str]:
    from stack.services.hive import driver_class_path, spark_home

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
            str(JOB_FILE), job, *job_args]


def prepare_conf(s: Settings) -> Path:
    """The Hive endpoint's configuration (metastore, HDFS), rendered for the jobs' own use."""
    from stack.config import render

    for sub in ("tmp", "local"):
        s.path("data", "spark-jobs", sub).mkdir(parents=True, exist_ok=True)
    s.path("logs").mkdir(parents=True, exist_ok=True)
    return render(s, "hive", s.path("conf", "spark-jobs"))


def run_job(job: str, day: Day | str, settings: Settings | None = None, config: MartConfig | None = None,
            truth: Path | None = None, log: Log = print) -> dict[str, Any]:
    """Train ``job`` for business date ``day``; returns the job's summary (rows, metrics, seconds)."""
    if job not in JOBS:
        raise PilotError(f"unknown analysis job {job!r}; known: {', '.join(JOBS)}")
    day = Day.of(day)
    s = settings or get_settings()
    config = config or MartConfig.from_settings(s)
    conf_dir = prepare_conf(s)
    with tempfile.TemporaryDirectory(prefix=f"spark-{job}-") as tmp:
        result = Path(tmp) / "result.json"
        job_args = ["--date", day.text, "--database", config.database, "--audit-dir", config.audit_dir,
                    "--result", str(result)]
        if truth is not None:
            job_args += ["--truth", str(truth)]
        log(f"{job}: spark-submit (master {s.spark_master}, driver {s.heap_spark_job}) for {day}")
        tail: list[str] = []
        with subprocess.Popen(submit_command(s, job, job_args, conf_dir), env=job_env(s, conf_dir),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                line = line.rstrip()
                if not line or any(q in line for q in QUIET):
                    continue
                tail = [*tail[-(SHOWN_LINES - 1):], line]
                log(f"  {line}")
        if proc.returncode != 0 or not result.is_file():
            error = next((t for t in reversed(tail) if t.startswith("error: ")), None)
            if error:
                raise JobFailed(error.removeprefix("error: "))
            raise JobFailed(f"the Spark job {job} for {day} failed (exit {proc.returncode}); its last "
                            f"lines:\n" + "\n".join(tail[-SHOWN_LINES:]))
        return json.loads(result.read_text(encoding="utf-8"))
