"""The end-to-end smart-car pipeline for one day: simulate → Kafka → HDFS/HBase/Redis → marts → PostgreSQL.

Thin on purpose: every task calls one function of `pilot.pipeline`, which holds the logic and is
unit-tested. Trigger it from the UI with a date and a fleet size (or `pilot demo`).
"""

from __future__ import annotations

from airflow.sdk import Asset, dag, task

from pilot.dag_defaults import DEFAULT_ARGS, RUN_PARAMS, START_DATE

STATUS_TOPIC = Asset("kafka://smartcar/smartcar-status")
DRIVE_TOPIC = Asset("kafka://smartcar/SmartCar-Topic")
HDFS_STATUS = Asset("hdfs://smartcar/pilot-pjt/collect/car-batch-log")
HDFS_DRIVE = Asset("hdfs://smartcar/pilot-pjt/collect/drive-log")
HBASE_DRIVE = Asset("hbase://smartcar/DriverCarInfo")
REDIS_ALERTS = Asset("redis://smartcar/overspeed-alerts")
MARTS = {name: Asset(f"hive://smartcar/default/{name}") for name in (
    "managed_smartcar_status_info", "managed_smartcar_drive_info", "managed_smartcar_symptom_info",
    "managed_smartcar_emergency_check_info", "managed_smartcar_item_buylist_info")}


@dag(
    dag_id="smartcar_pilot",
    description="One simulated day of the fleet through Kafka, HDFS, HBase, Redis, Hive marts and PostgreSQL",
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params=RUN_PARAMS,
    tags=["smartcar", "end-to-end"],
    doc_md=__doc__,
)
def smartcar_pilot() -> None:
    @task
    def plan(**context) -> dict:
        from pilot import pipeline

        return pipeline.plan_run(context["params"], context.get("logical_date")).as_dict()

    @task
    def simulate(run: dict) -> dict:
        from pilot import pipeline

        return pipeline.simulate(pipeline.RunSpec.from_dict(run))

    @task
    def upload_reference(run: dict) -> dict:
        from pilot import pipeline

        return pipeline.upload_reference(pipeline.RunSpec.from_dict(run))

    @task(outlets=[STATUS_TOPIC])
    def collect_status(run: dict) -> dict:
        from pilot import pipeline

        return pipeline.collect_status(pipeline.RunSpec.from_dict(run))

    @task(outlets=[DRIVE_TOPIC])
    def collect_drive(run: dict) -> dict:
        from pilot import pipeline

        return pipeline.collect_drive(pipeline.RunSpec.from_dict(run))

    @task(outlets=[HDFS_STATUS, HDFS_DRIVE])
    def load_batch(run: dict) -> dict:
        from pilot import pipeline

        return pipeline.load_batch(pipeline.RunSpec.from_dict(run))

    @task(outlets=[HBASE_DRIVE, REDIS_ALERTS])
    def load_realtime(run: dict) -> dict:
        from pilot import pipeline

        return pipeline.load_realtime(pipeline.RunSpec.from_dict(run))

    def mart_task(mart: str):
        @task(task_id=f"build_{mart}", outlets=[MARTS[mart]], pool="hive_sql")
        def build(run: dict) -> dict:
            from pilot import pipeline

            return pipeline.build_mart(pipeline.RunSpec.from_dict(run), mart)

        return build

    def export_task(mart: str):
        @task(task_id=f"export_{mart}")
        def export(run: dict) -> dict:
            from pilot import pipeline

            return pipeline.export_mart(pipeline.RunSpec.from_dict(run), mart)

        return export

    @task
    def summary(run: dict, stages: dict) -> dict:
        from pilot import pipeline

        return pipeline.summarize(pipeline.RunSpec.from_dict(run), stages)

    run = plan()
    sim = simulate(run)
    reference = upload_reference(run)
    status = collect_status(run)
    drive = collect_drive(run)
    sim >> [reference, status, drive]
    batch = load_batch(run)
    realtime = load_realtime(run)
    [status, drive, reference] >> batch
    drive >> realtime

    built = {m: mart_task(m)(run) for m in MARTS}
    batch >> [built["managed_smartcar_status_info"], built["managed_smartcar_drive_info"],
              built["managed_smartcar_item_buylist_info"]]
    built["managed_smartcar_status_info"] >> built["managed_smartcar_emergency_check_info"]
    built["managed_smartcar_drive_info"] >> built["managed_smartcar_symptom_info"]
    exported = {}
    for mart, build in built.items():
        exported[mart] = export_task(mart)(run)
        build >> exported[mart]
    stages = {"collect_status": status, "collect_drive": drive, "load_batch": batch,
              "load_realtime": realtime,
              **{f"build_{m}": b for m, b in built.items()},
              **{f"export_{m}": e for m, e in exported.items()}}
    summary(run, stages)


smartcar_pilot()
