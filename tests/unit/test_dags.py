"""DAG integrity without services: every DAG imports, has no cycles, uses Airflow 3 APIs only,
has sane defaults, and its file does no heavy work or connections at import time."""

from __future__ import annotations

import ast
import socket
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DAG_FILES = sorted((REPO / "dags").glob("*.py"))
AIRFLOW2_ONLY = ("airflow.operators.", "airflow.sensors.", "airflow.models.dag", "airflow.decorators",
                 "schedule_interval", "provide_context")


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def test_there_are_dag_files() -> None:
    assert DAG_FILES, "no DAG files under dags/"


def test_every_dag_imports(dagbag) -> None:
    assert dagbag.import_errors == {}
    assert "smartcar_pilot" in dagbag.dags


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_only_airflow3_apis(path: Path) -> None:
    text = path.read_text()
    for legacy in AIRFLOW2_ONLY:
        assert legacy not in text, f"{path.name} uses the Airflow 2 API {legacy!r}"
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("airflow"):
            assert node.module == "airflow.sdk" or node.module.startswith("airflow.providers."), \
                f"{path.name} imports {node.module}; use airflow.sdk"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_files_are_thin_and_offline_at_import(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Importing a DAG file opens no connection and takes well under a second."""
    import importlib.util

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"{path.name} opens a network connection at import time")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    spec = importlib.util.spec_from_file_location(f"dagfile_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    started = time.perf_counter()
    spec.loader.exec_module(module)
    assert time.perf_counter() - started < 2.0
    heavy = {"pandas", "numpy", "happybase", "hdfs", "kafka", "pyhive", "psycopg2", "redis"}
    tree = ast.parse(path.read_text())
    top_imports = {alias.name.split(".")[0] for node in tree.body if isinstance(node, ast.Import)
                   for alias in node.names}
    top_imports |= {node.module.split(".")[0] for node in tree.body
                    if isinstance(node, ast.ImportFrom) and node.module}
    assert not top_imports & heavy, f"{path.name} imports {top_imports & heavy} at module level"


def test_defaults_retries_timeouts_and_no_catchup(dagbag) -> None:
    for dag_id, dag in dagbag.dags.items():
        assert dag.catchup is False, dag_id
        assert dag.max_active_runs >= 1
        for t in dag.tasks:
            assert t.retries >= 1, f"{dag_id}.{t.task_id} has no retries"
            assert t.execution_timeout is not None, f"{dag_id}.{t.task_id} has no timeout"
            assert t.retry_exponential_backoff, f"{dag_id}.{t.task_id} retries without backoff"


def test_end_to_end_dag_shape(dagbag) -> None:
    """The day's ingestion, then a wait for the marts its load starts in the marts DAG, then the summary."""
    dag = dagbag.dags["smartcar_pilot"]
    assert set(dag.params.keys()) >= {"date", "cars", "seed", "rate"}
    assert set(dag.task_ids) == {"plan", "simulate", "upload_reference", "collect_status", "collect_drive",
                                 "load_batch", "load_realtime", "wait_for_marts", "summary"}
    assert not any(t.startswith(("build_", "export_")) for t in dag.task_ids)  # the marts DAG builds them
    assert dag.get_task("wait_for_marts").upstream_task_ids == {"load_batch"}
    assert dag.get_task("wait_for_marts").mode == "reschedule"
    assert dag.get_task("summary").upstream_task_ids == {
        "plan", "collect_status", "collect_drive", "load_batch", "load_realtime", "wait_for_marts"}


def test_the_asset_chain_load_then_marts_then_analysis(dagbag) -> None:
    """load_batch publishes the two raw partitions the marts DAG is scheduled on; the mart builds
    publish the marts the analysis DAG is scheduled on."""
    pilot, marts, analysis = (dagbag.dags[d]
                              for d in ("smartcar_pilot", "smartcar_marts", "smartcar_analysis"))
    loaded = {a.uri for a in pilot.get_task("load_batch").outlets}
    assert loaded == {"hdfs://smartcar/pilot-pjt/collect/car-batch-log",
                      "hdfs://smartcar/pilot-pjt/collect/drive-log"}
    assert {a.uri for a in marts.timetable.asset_condition.objects} == loaded
    published = {a.uri for t in marts.tasks if t.task_id.startswith("build_") for a in t.outlets}
    assert {a.uri for a in analysis.timetable.asset_condition.objects} <= published


def test_the_end_to_end_dag_runs_daily_for_the_day_that_ended(dagbag) -> None:
    from datetime import UTC, datetime

    from airflow.timetables.base import DataInterval, TimeRestriction

    dag = dagbag.dags["smartcar_pilot"]
    assert dag.catchup is False and dag.max_active_runs == 1
    nxt = dag.timetable.next_dagrun_info(
        last_automated_data_interval=DataInterval(datetime(2026, 12, 2, 1, tzinfo=UTC),
                                                  datetime(2026, 12, 3, 1, tzinfo=UTC)),
        restriction=TimeRestriction(earliest=None, latest=None, catchup=True))
    assert nxt.run_after == datetime(2026, 12, 4, 1, tzinfo=UTC)
    assert nxt.data_interval.start.strftime("%Y%m%d") == "20261203"  # the plan's business date


def _assert_acyclic(dag) -> None:
    order: dict[str, int] = {}
    visiting: set[str] = set()

    def visit(task_id: str) -> None:
        if task_id in order:
            return
        assert task_id not in visiting, f"cycle through {task_id} in {dag.dag_id}"
        visiting.add(task_id)
        for child in dag.get_task(task_id).downstream_task_ids:
            visit(child)
        visiting.discard(task_id)
        order[task_id] = len(order)

    for task_id in dag.task_ids:
        visit(task_id)
    assert len(order) == len(dag.task_ids)


def test_no_cycles(dagbag) -> None:
    for dag in dagbag.dags.values():
        _assert_acyclic(dag)


def test_no_dag_file_names_a_mart() -> None:
    from marts.catalog import MARTS

    for path in DAG_FILES:
        text = path.read_text()
        for mart in MARTS:
            assert mart.name not in text and mart.name.removeprefix("managed_") not in text, \
                f"{path.name} names the mart {mart.name}; loop over the catalog instead"


@pytest.mark.parametrize("dag_id", ["smartcar_marts"])
def test_mart_tasks_follow_the_catalog(dagbag, dag_id: str) -> None:
    """Every mart of the catalog has a build and an export task; the edges are the catalog's."""
    from marts.catalog import LANDS_WITH, MARTS, PARTITIONED_INPUTS

    dag = dagbag.dags[dag_id]
    builds = {t for t in dag.task_ids if t.startswith("build_")}
    exports = {t for t in dag.task_ids if t.startswith("export_")}
    assert builds == {f"build_{m.name}" for m in MARTS}
    assert exports == {f"export_{m.name}" for m in MARTS}
    sensors = {f"wait_{t.removeprefix('smartcar_').removesuffix('_info')}_partition"
               for t in PARTITIONED_INPUTS}
    feeders = {"load_batch"} if dag_id == "smartcar_pilot" else sensors
    for mart in MARTS:
        build = dag.get_task(f"build_{mart.name}")
        expected = {f"build_{u}" for u in mart.upstream}
        if dag_id == "smartcar_pilot":
            expected.add("plan")
            if mart.inputs:
                expected.add("load_batch")
        if dag_id == "smartcar_marts":
            waited = {LANDS_WITH.get(t, t) for t in mart.inputs}
            expected |= {f"wait_{t.removeprefix('smartcar_').removesuffix('_info')}_partition"
                         for t in waited if t in PARTITIONED_INPUTS}
        assert build.upstream_task_ids == expected, mart.name
        assert build.pool == "hive_sql"
        export_after = {f"build_{mart.name}"} | ({"plan"} if dag_id == "smartcar_pilot" else set())
        assert dag.get_task(f"export_{mart.name}").upstream_task_ids == export_after
        assert not build.upstream_task_ids & feeders or mart.inputs, mart.name


def test_end_to_end_dag_keeps_its_stage_edges(dagbag) -> None:
    dag = dagbag.dags["smartcar_pilot"]
    edges = {(u, t.task_id) for t in dag.tasks for u in t.upstream_task_ids
             if not t.task_id.startswith(("wait_for_marts", "summary"))}
    assert edges == {("plan", "simulate"), ("plan", "upload_reference"), ("plan", "collect_status"),
                     ("plan", "collect_drive"), ("plan", "load_batch"), ("plan", "load_realtime"),
                     ("simulate", "upload_reference"), ("simulate", "collect_status"),
                     ("simulate", "collect_drive"), ("collect_status", "load_batch"),
                     ("collect_drive", "load_batch"), ("upload_reference", "load_batch"),
                     ("collect_drive", "load_realtime")}


MART_TABLES = tuple(f"managed_smartcar_{n}_info"
                    for n in ("status", "drive", "symptom", "emergency_check", "item_buylist"))


def _edges(dag) -> set[tuple[str, str]]:
    return {(u, t.task_id) for t in dag.tasks for u in t.upstream_task_ids}


def test_marts_dag_has_the_edges_it_had_before_the_catalog_loop(dagbag) -> None:
    """The graph written by hand before the DAGs looped over the catalog, spelled out."""
    status, drive, symptom, emergency, buylist = MART_TABLES
    before = {("wait_status_partition", f"build_{status}"), ("wait_status_partition", f"build_{buylist}"),
              ("wait_drive_partition", f"build_{drive}"), (f"build_{status}", f"build_{emergency}"),
              (f"build_{drive}", f"build_{symptom}"),
              *((f"build_{m}", f"export_{m}") for m in (status, drive, symptom, emergency, buylist))}
    assert _edges(dagbag.dags["smartcar_marts"]) == before
