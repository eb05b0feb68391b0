"""Start a Spark analysis job (:mod:`analysis.spark_job`) with ``spark-submit`` and wait for it.

The job is a Spark application of its own (local mode by default, heap ``PILOT_HEAP_SPARK_JOB``;
``PILOT_SPARK_MASTER`` points it at a cluster). It shares the Hive metastore in PostgreSQL with the
Hive SQL endpoint, so its tables are at once visible to ``pilot sql``, beeline and the exporter.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from analysis.spark_submit import job_env, prepare_conf, submit_command
from marts.config import MartConfig
from pilot.dates import Day
from pilot.errors import PilotError
from pilot.settings import Settings, get_settings

JOBS = ("recommend", "classify", "cluster", "style")
NEEDS_TRUTH = ("recommend", "style")  # precision@3 against the planted taste; the style labels
SHOWN_LINES = 25
# Spark and Hadoop warnings that say nothing to a user of the pilot.
QUIET = ("WARN NativeCodeLoader", "WARN Utils: Service", "WARNING: Using incubator modules",
         "WARN HiveConf", "WARN ObjectStore", "WARN SparkStringUtils", "WARN package:")

Log = Callable[[str], None]


class JobFailed(PilotError):
    """A Spark analysis job exited with an error."""


def run_job(job: str, day: Day | str, settings: Settings | None = None, config: MartConfig | None = None,
            truth: Path | None = None, log: Log = print) -> dict[str, Any]:
    """Train ``job`` for business date ``day``; returns the job's summary (rows, metrics, seconds)."""
    return run_jobs([job], day, settings, config, truth, log)[job]


def run_jobs(jobs: Sequence[str], day: Day | str, settings: Settings | None = None,
             config: MartConfig | None = None, truth: Path | None = None, log: Log = print
             ) -> dict[str, dict[str, Any]]:
    """Train ``jobs`` for business date ``day``, one after the other in one Spark application;
    job -> its summary (rows, metrics, seconds)."""
    unknown = [job for job in jobs if job not in JOBS]
    if unknown or not jobs:
        raise PilotError(f"unknown analysis job {', '.join(map(repr, unknown)) or '(none)'}; "
                         f"known: {', '.join(JOBS)}")
    job = "+".join(jobs)
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
        with subprocess.Popen(submit_command(s, jobs, job_args, conf_dir), env=job_env(s, conf_dir),
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
