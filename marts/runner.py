"""Build marts for a business date: tables, input partitions, row counts, gates, publishing.

Write-audit-publish: a build lands in the mart's audit table, in a folder of its own; the gates
run there; only when they pass does the mart's partition switch to that folder (one metastore
update). A failed gate leaves the published partition as it was and names the check.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from marts import gates, inputs, sqlfile
from marts.catalog import INPUT_FILES, Mart, get_mart, select_marts
from marts.config import MartConfig
from marts.hive import HiveSession
from pilot.dates import Day
from pilot.errors import PilotError
from pilot.partition_locks import partition_key, partition_lock
from pilot.settings import Settings, get_settings
from pilot.sql_values import SqlIdentifier, SqlLocation, SqlValue

Log = Callable[[str], None]
HEARTBEAT_SECONDS = 20.0


class MissingUpstream(PilotError):
    """A mart needs another mart's partition that has not been built."""


@dataclass(frozen=True)
class MartResult:
    mart: str
    partition: str
    rows: int
    seconds: float
    gates: int


def partition_params(
    mart: Mart, params: Mapping[str, SqlValue], table: str | None = None,
) -> dict[str, SqlValue]:
    value = params[mart.partition_column]  # the params hold biz_date and biz_month
    return {
        **params,
        "table": SqlIdentifier(table or mart.name),
        "partition_column": SqlIdentifier(mart.partition_column),
        "partition_value": value,
    }


def partition_label(mart: Mart, params: Mapping[str, SqlValue]) -> str:
    return f"{mart.partition_column}={partition_params(mart, params)['partition_value'].render()}"


@contextmanager
def heartbeat(log: Log, what: str, every: float = HEARTBEAT_SECONDS) -> Iterator[None]:
    """Print '... still <what> (N s)' while a long statement runs."""
    stop = threading.Event()
    started = time.monotonic()

    def beat() -> None:
        while not stop.wait(every):
            log(f"    ... still {what} ({time.monotonic() - started:.0f} s)")

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def ensure_input_tables(hive: HiveSession, params: Mapping[str, SqlValue]) -> None:
    for relative in INPUT_FILES:
        for statement in sqlfile.statements(relative, params):
            hive.execute(statement)


def partition_exists(hive: HiveSession, params: Mapping[str, SqlValue], mart_name: str) -> bool:
    probe = partition_params(get_mart(mart_name), params)
    try:
        rows = hive.query(sqlfile.statements("ops/show_partition.sql", probe)[0]).rows
    except PilotError:
        return False  # the table itself does not exist yet
    return bool(rows)


def count_rows(hive: HiveSession, mart: Mart, params: Mapping[str, SqlValue],
               table: str | None = None) -> int:
    statement = sqlfile.statements("ops/count_partition.sql", partition_params(mart, params, table))[0]
    return int(hive.scalar(statement) or 0)


def audit_table(mart: Mart) -> str:
    return f"{mart.name}__audit"


def audit_params(mart: Mart, params: Mapping[str, SqlValue],
                 build_id: str | None = None) -> dict[str, SqlValue]:
    """The parameters of one audited build: the audit table and a folder of this build's own."""
    build_id = build_id or f"b{time.strftime('%Y%m%dT%H%M%S')}_{uuid.uuid4().hex[:8]}"
    base = partition_params(mart, params)
    root = f"{params['audit_base'].render()}/{mart.name}"
    folder = f"{root}/{mart.partition_column}={base['partition_value'].render()}/{build_id}"
    return {**base, "build_table": SqlIdentifier(audit_table(mart)), "audit_root": SqlLocation(root),
            "audit_location": SqlLocation(folder)}


def published_params(mart: Mart, params: Mapping[str, SqlValue]) -> dict[str, SqlValue]:
    """Parameters that point the checks at the published mart itself (checking, not building)."""
    return {**partition_params(mart, params), "build_table": SqlIdentifier(mart.name)}


def partition_location(hive: HiveSession, mart: Mart, params: Mapping[str, SqlValue]) -> str | None:
    """The folder a mart partition reads, or None when there is no such partition."""
    statement = sqlfile.statements("ops/describe_partition.sql", partition_params(mart, params))[0]
    try:
        rows = hive.query(statement).rows
    except PilotError:
        return None
    return next((str(row[1]).strip() for row in rows if str(row[0] or "").strip() == "Location"), None)


def publish(hive: HiveSession, mart: Mart, wap: Mapping[str, SqlValue], hdfs_client: Any = None,
            settings: Settings | None = None) -> None:
    """Point the mart's partition at the audited build; keep the previous build, drop older ones.

    With ``settings`` this happens under the partition's exclusive lock
    (:mod:`pilot.partition_locks`): exports reading the partition finish first, and none starts
    until the new location is in place and the old builds are gone.
    """
    key = partition_key(wap["db"].render(), mart.name, mart.partition_column, wap["partition_value"].render())
    lock = partition_lock(settings, key, exclusive=True) if settings else contextlib.nullcontext()
    with lock:
        before = partition_location(hive, mart, wap)
        for statement in sqlfile.statements("wap/publish_partition.sql", wap):
            hive.execute(statement)
        if hdfs_client is None:
            return
        new = urlparse(wap["audit_location"].render()).path
        keep = {new, urlparse(before).path if before else ""}
        builds = new.rsplit("/", 1)[0]
        for name in hdfs_client.list(builds):
            if f"{builds}/{name}" not in keep:
                hdfs_client.delete(f"{builds}/{name}", recursive=True)


def build_one(hive: HiveSession, mart: Mart, params: Mapping[str, SqlValue], log: Log, run_gates: bool = True,
              hdfs_client: Any = None, settings: Settings | None = None) -> MartResult:
    """Write the build into the audit table, audit it with the gates, publish it if they pass."""
    label = partition_label(mart, params)
    wap = audit_params(mart, params)
    started = time.perf_counter()
    with heartbeat(log, f"building {mart.name}"):
        for statement in sqlfile.statements(mart.build_file, wap):
            if statement.lstrip().upper().startswith("INSERT"):
                for audit in sqlfile.statements("wap/audit_partition.sql", wap):
                    hive.execute(audit)
            hive.execute(statement)
        rows = count_rows(hive, mart, wap, audit_table(mart))
    built = time.perf_counter() - started
    checked = 0
    if run_gates:
        with heartbeat(log, f"checking {mart.name}"):
            results = gates.run_gates(hive, mart, wap)
        checked = len(results)
        failed = [r for r in results if not r.passed]
        if failed:
            for statement in sqlfile.statements("ops/drop_mart_partition.sql", wap):
                hive.execute(statement)
            log(f"  {mart.name} {label}: gate {failed[0].check} FAILED; the build is withdrawn and "
                f"the published partition is unchanged")
            gates.enforce(failed, label)
    publish(hive, mart, wap, hdfs_client, settings)
    seconds = time.perf_counter() - started
    log(f"  {mart.name:<38} {label:<18} {rows:>11,} rows  build {built:6.1f} s  "
        f"gates {checked} ok  total {seconds:6.1f} s")
    return MartResult(mart.name, label, rows, seconds, checked)


def build_marts(
    biz_date: Day | str,
    names: list[str] | None = None,
    config: MartConfig | None = None,
    settings: Settings | None = None,
    log: Log = print,
    run_gates: bool = True,
    hive: HiveSession | None = None,
    hdfs_client: Any = None,
) -> list[MartResult]:
    """Build (and gate) the requested marts for one business date, in dependency order."""
    biz_date = Day.of(biz_date)
    marts = select_marts(names)
    settings = settings or get_settings()
    config = config or MartConfig.from_settings(settings)
    params = config.params(biz_date)
    requested = {m.name for m in marts}

    if hdfs_client is None:
        from hdfs import InsecureClient

        hdfs_client = InsecureClient(settings.webhdfs_url, user=settings.hdfs_user)
    partitioned, reference = inputs.tables_needed(marts)
    inputs.check_reference_data(hdfs_client, config, biz_date, reference)
    found = inputs.find_partitions(hdfs_client, config, biz_date, partitioned)

    own = hive is None
    session = hive or HiveSession(settings)
    try:
        started = time.perf_counter()
        log(f"marts for {biz_date} in Hive database {config.database} "
            f"(collection dates {', '.join(config.collection_dates(biz_date))}):")
        ensure_input_tables(session, params)
        inputs.register(session, config, found, refresh=reference)
        for part in found:
            log(f"  input {part.table} wrk_date={part.wrk_date}: {part.files} file(s), "
                f"{part.bytes / 1e6:,.1f} MB")
        results: list[MartResult] = []
        for mart in marts:
            for upstream in mart.upstream:
                if upstream not in requested and not partition_exists(session, params, upstream):
                    raise MissingUpstream(
                        f"{mart.name} reads {upstream} for {biz_date}, which has not been built; "
                        f"run `pilot marts build --date {biz_date} --mart {get_mart(upstream).alias}` first")
            results.append(build_one(session, mart, params, log, run_gates, hdfs_client, settings))
        log(f"built {len(results)} mart(s) in {time.perf_counter() - started:.1f} s")
        return results
    finally:
        if own:
            session.close()


def check_marts(
    biz_date: Day | str,
    names: list[str] | None = None,
    config: MartConfig | None = None,
    settings: Settings | None = None,
    hive: HiveSession | None = None,
) -> list[gates.GateResult]:
    """Run the gates of already-built marts (nothing is dropped; the caller reports)."""
    biz_date = Day.of(biz_date)
    marts = select_marts(names)
    settings = settings or get_settings()
    config = config or MartConfig.from_settings(settings)
    params = config.params(biz_date)
    own = hive is None
    session = hive or HiveSession(settings)
    try:
        results: list[gates.GateResult] = []
        for mart in marts:
            if not partition_exists(session, params, mart.name):
                raise MissingUpstream(f"{mart.name} has no partition {partition_label(mart, params)}; "
                                      f"build it with `pilot marts build --date {biz_date}`")
            results.extend(gates.run_gates(session, mart, published_params(mart, params)))
        return results
    finally:
        if own:
            session.close()


def render_sql(biz_date: Day | str, name: str, config: MartConfig | None = None, checks: bool = False) -> str:
    """The bound SQL of one mart (build statements, or its checks) — for reading or beeline."""
    mart = get_mart(name)
    config = config or MartConfig.from_settings()
    params = audit_params(mart, config.params(biz_date), build_id="preview")
    if checks:
        return "\n\n".join(f"-- check: {c.name}\n{c.sql};" for c in sqlfile.checks(mart.checks_file, params))
    return "\n\n".join(f"{s};" for s in sqlfile.statements(mart.build_file, params))
