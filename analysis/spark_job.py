"""A Spark analysis job: the file ``spark-submit`` runs (see :mod:`analysis.training`).

    spark-submit ... analysis/spark_job.py JOB [JOB ...] --date yyyyMMdd --database DB
                     --audit-dir PATH --result FILE [--truth ground_truth.json]

For each JOB (recommend, classify, cluster, style), one after the other in one Spark application
(starting Spark is most of a small job's time), it trains the model on the marts through the shared
Hive metastore, publishes its tables write-audit-publish with the marts' runner and replaces its
own rows of the metrics table; FILE gets a JSON summary per job.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any


def log(message: str) -> None:
    print(message, flush=True)


def truth_facts(truth_path: str | None, key: str) -> dict[str, Any] | None:
    """car -> one fact of the simulator's ground truth (e.g. ``favourite_items``), or None without one."""
    if not truth_path:
        return None
    truth = json.loads(Path(truth_path).read_text(encoding="utf-8"))
    return {car: facts.get(key) for car, facts in truth["cars"].items()}


def train(job: str, spark: Any, database: str, day: Any, truth_path: str | None, settings: Any) -> Any:
    if job == "style":
        from analysis import style

        drivers = truth_facts(truth_path, "driver")
        styles = None if drivers is None else {car: str((d or {}).get("style")) for car, d in drivers.items()}
        return style.run(spark, database, day, styles, settings.overspeed_window_seconds,
                         settings.overspeed_speed_kmh)
    if job == "recommend":
        from analysis import recommend

        return recommend.run(spark, database, day, truth_facts(truth_path, "favourite_items")), None
    if job == "classify":
        from analysis import classify

        return classify.run(spark, database, day), None
    from analysis import cluster

    return cluster.run(spark, database, day), None


def publish(spark: Any, output: Any, params: dict[str, Any], settings: Any) -> dict[str, int]:
    """Every table of the output, then its metric rows, each written-audited-published."""
    from hdfs import InsecureClient

    from analysis.model_tables import MODEL_METRICS
    from analysis.spark_sql import SparkSqlSession
    from marts.runner import build_one
    from pilot.partition_locks import partition_key, partition_lock
    from pilot.sql_values import SqlIdentifier

    session = SparkSqlSession(spark)
    hdfs_client = InsecureClient(settings.webhdfs_url, user=settings.hdfs_user)
    rows: dict[str, int] = {}

    def build(table: Any, frame: Any) -> None:
        view = f"source_{table.name}"
        frame.createOrReplaceTempView(view)
        result = build_one(session, table, {**params, "source_view": SqlIdentifier(view)}, log, True,
                           hdfs_client, settings)
        rows[table.name] = result.rows

    for table, frame in output.tables.items():
        build(table, frame)
    metrics = spark.createDataFrame(output.metrics, "model string, metric string, value double")
    # Jobs of one date replace only their own rows of the metrics partition: read, merge and publish
    # one at a time (a lock of its own: the publish inside takes the partition's lock as well).
    key = partition_key(params["db"].render(), MODEL_METRICS.name, "biz_date", params["biz_date"].render())
    with partition_lock(settings, f"{key}#merge", exclusive=True):
        build(MODEL_METRICS, metrics)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="spark_job.py")
    parser.add_argument("jobs", nargs="+", choices=("recommend", "classify", "cluster", "style"))
    parser.add_argument("--date", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--audit-dir", required=True)
    parser.add_argument("--result", required=True)
    parser.add_argument("--truth")
    args = parser.parse_args(argv)

    from pyspark.sql import SparkSession

    from marts.config import MartConfig
    from pilot.dates import Day
    from pilot.settings import get_settings

    started = time.perf_counter()
    day = Day.parse(args.date)
    settings = get_settings()
    config = MartConfig.from_settings(settings, database=args.database, audit_dir=args.audit_dir)
    name = "+".join(args.jobs)
    spark = SparkSession.builder.appName(f"smartcar-{name}").enableHiveSupport().getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    summaries: dict[str, Any] = {}
    try:
        for job in args.jobs:
            log(f"{job}: training on {config.database} for {day} (Spark {spark.version}, "
                f"master {spark.sparkContext.master})")
            summaries[job] = run_one(job, spark, config, day, args.truth, settings, started)
            started = time.perf_counter()  # the next job's time starts here; the first's has Spark's start
        Path(args.result).write_text(json.dumps(summaries, default=str), encoding="utf-8")
        return 0
    finally:
        spark.stop()


def run_one(job: str, spark: Any, config: Any, day: Any, truth: str | None, settings: Any,
            started: float) -> dict[str, Any]:
    """Train and publish one job; its summary."""
    output, model = train(job, spark, config.database, day, truth, settings)
    trained = time.perf_counter() - started
    log(f"{job}: trained in {trained:.1f} s; publishing")
    rows = publish(spark, output, config.params(day), settings)
    summary = {"job": job, "date": day.text, "rows": rows, "train_seconds": round(trained, 1),
               **output.summary}
    if model is not None:  # after its table: the service finds a car's features once it serves it
        from hdfs import InsecureClient

        from analysis.style_model import publish as publish_model

        client = InsecureClient(settings.webhdfs_url, user=settings.hdfs_user)
        summary["model_path"] = publish_model(client, config.database, model)
        log(f"{job}: model {model.version} published to {summary['model_path']}")
    summary["seconds"] = round(time.perf_counter() - started, 1)
    return summary


if __name__ == "__main__":
    from pilot.errors import PilotError

    try:
        sys.exit(main())
    except PilotError as exc:
        print(f"error: {exc}", flush=True)
        sys.exit(2)
