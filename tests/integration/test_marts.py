"""The five marts on the real Hive endpoint, against the pandas oracle and the simulator's truth.

One short simulated day (20 cars, one hour) is written in the batch loader's HDFS layout with
late arrivals, crash-replay duplicates, neighbouring days' events and in-flight files, into a
private HDFS folder and a private Hive database (dropped at the end).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import redirect_stdout
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pandas as pd
import pytest
from hdfs import InsecureClient

from marts import gates, runner, sqlfile
from marts.catalog import MARTS, get_mart
from marts.hive import HiveSession
from marts.inputs import MissingInput
from orchestration import cli
from pilot.errors import InvalidInput
from pilot.settings import Settings
from pilot.sql_values import SqlIdentifier
from tests.oracles import marts as oracle
from tests.support.devdata import PreparedDay, Realism, drop_prepared, prepare_day

DATE = "20200401"  # unique to this module
NEXT = "20200402"
TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def day(
    tmp_path_factory: pytest.TempPathFactory, client: InsecureClient, hive: HiveSession
) -> Iterator[PreparedDay]:
    tag = uuid.uuid4().hex[:8]
    realism = Realism(late_share=0.1, duplicate_share=0.05, neighbour_rows=40, in_flight_file=True, seed=3)
    prepared = prepare_day(
        tmp_path_factory.mktemp("marts"),
        DATE,
        f"/tmp/pilot-it/marts-{tag}",
        f"pilot_it_marts_{tag}",
        client,
        realism=realism,
    )
    yield prepared
    drop_prepared(hive, client, prepared)


@pytest.fixture(scope="module")
def built(day: PreparedDay, hive: HiveSession, client: InsecureClient) -> dict[str, Any]:
    lines: list[str] = []
    results = runner.build_marts(DATE, config=day.config, log=lines.append, hive=hive, hdfs_client=client)
    return {"results": {r.mart: r for r in results}, "log": lines}


def fetch(
    hive: HiveSession, day: PreparedDay, table: str, where: str = f"biz_date = '{DATE}'"
) -> pd.DataFrame:
    result = hive.query(f"SELECT * FROM {day.config.database}.{table} WHERE {where}")
    frame = pd.DataFrame(result.rows, columns=result.columns)
    for column in frame.columns:
        if len(frame) and isinstance(frame[column].iloc[0], Decimal):
            frame[column] = frame[column].astype(float)
    return frame


def rows_of(frame: pd.DataFrame, columns: list[str]) -> list[tuple[Any, ...]]:
    return sorted(tuple(r) for r in frame[columns].itertuples(index=False, name=None))


def test_build_reports_every_mart(built: dict[str, Any]) -> None:
    assert set(built["results"]) == {m.name for m in MARTS}
    assert all(r.gates >= 4 for r in built["results"].values())
    text = "\n".join(built["log"])
    assert "managed_smartcar_drive_info" in text and "rows" in text
    assert f"wrk_date={NEXT}" in text  # the late-arrival partition was registered


def test_status_mart_equals_oracle(built: dict[str, Any], hive: HiveSession, day: PreparedDay) -> None:
    expected = oracle.status_mart(day.layout_dir, DATE)
    actual = fetch(hive, day, "managed_smartcar_status_info")
    columns = oracle.STATUS_COLUMNS + oracle.PROFILE
    assert built["results"]["managed_smartcar_status_info"].rows == len(expected)
    assert rows_of(actual, columns) == rows_of(expected, columns)
    adults = sum(1 for c in day.truth["cars"].values() if c["adult"])
    assert len(actual) == adults * day.truth["cars"][next(iter(day.truth["cars"]))]["status_records"]


def test_drive_mart_equals_oracle(built: dict[str, Any], hive: HiveSession, day: PreparedDay) -> None:
    expected = oracle.drive_mart(day.layout_dir, DATE)
    actual = fetch(hive, day, "managed_smartcar_drive_info")
    columns = oracle.DRIVE_COLUMNS + oracle.PROFILE
    assert rows_of(actual, columns) == rows_of(expected, columns)
    assert not actual.duplicated(["car_number", "r_date"]).any()
    assert set(actual["r_date"].str[:8]) == {DATE}


def test_symptom_mart_equals_oracle_and_truth(
    built: dict[str, Any], hive: HiveSession, day: PreparedDay
) -> None:
    expected = oracle.symptom_mart(oracle.drive_mart(day.layout_dir, DATE)).set_index("car_number")
    actual = fetch(hive, day, "managed_smartcar_symptom_info").set_index("car_number")
    assert sorted(actual.index) == sorted(expected.index)
    for column in ("drive_events", "sharp_turns"):
        assert (actual[column] == expected.loc[actual.index, column]).all(), column
    for column in (
        "avg_speed_pedal",
        "speed_pedal_z",
        "avg_break_pedal",
        "break_pedal_z",
        "sharp_turn_share",
    ):
        assert ((actual[column] - expected.loc[actual.index, column]).abs() <= TOLERANCE).all(), column
    for column in ("speed_pedal_symptom", "break_pedal_symptom", "sharp_turn_symptom"):
        assert (actual[column] == expected.loc[actual.index, column]).all(), column
    # ground truth: every adult car that drove, its sharp turns and its three labels
    truth = {car: f for car, f in day.truth["cars"].items() if f["adult"] and f["drive_records"]}
    assert set(actual.index) == set(truth)
    for car, facts in truth.items():
        row = actual.loc[car]
        assert row["sharp_turns"] == facts["sharp_turns"]
        assert abs(row["avg_speed_pedal"] - facts["avg_speed_pedal"]) <= TOLERANCE
        for label in ("speed_pedal_symptom", "break_pedal_symptom", "sharp_turn_symptom"):
            assert row[label] == facts["symptom"][label], (car, label)
    zero = [car for car, f in truth.items() if f["sharp_turns"] == 0]
    assert zero, "the simulated day should have a calm driver without sharp turns"
    assert all(actual.loc[car, "sharp_turns"] == 0 for car in zero)


def test_emergency_mart_equals_oracle_and_truth(
    built: dict[str, Any], hive: HiveSession, day: PreparedDay
) -> None:
    expected = oracle.emergency_mart(oracle.status_mart(day.layout_dir, DATE)).set_index("car_number")
    actual = fetch(hive, day, "managed_smartcar_emergency_check_info").set_index("car_number")
    assert sorted(actual.index) == sorted(expected.index)
    for car in actual.index:
        assert actual.loc[car, "checks"].split(",") == expected.loc[car, "checks"]
        assert actual.loc[car, "check_count"] == len(expected.loc[car, "checks"])
        assert abs(actual.loc[car, "avg_battery"] - expected.loc[car, "avg_battery"]) <= TOLERANCE
    truth = {
        car: f["failed_checks"] for car, f in day.truth["cars"].items() if f["adult"] and f["failed_checks"]
    }
    assert {car: actual.loc[car, "checks"].split(",") for car in actual.index} == truth


def test_buylist_mart_equals_oracle(built: dict[str, Any], hive: HiveSession, day: PreparedDay) -> None:
    expected = oracle.buylist_mart(day.layout_dir, DATE[:6])
    actual = fetch(hive, day, "managed_smartcar_item_buylist_info", f"biz_month = '{DATE[:6]}'")
    columns = ["car_number", "item", "score", *oracle.PROFILE]
    assert rows_of(actual, columns) == rows_of(expected, columns)


def test_rebuild_gives_the_same_marts(
    built: dict[str, Any], hive: HiveSession, day: PreparedDay, client: InsecureClient
) -> None:
    def fingerprint() -> dict[str, tuple[Any, ...]]:
        out = {}
        for mart in MARTS:
            value = DATE[:6] if mart.monthly else DATE
            out[mart.name] = tuple(
                hive.query(
                    f"SELECT count(*), sum(hash(*)) FROM {day.config.database}.{mart.name} "
                    f"WHERE {mart.partition_column} = '{value}'"
                ).rows[0]
            )
        return out

    before = fingerprint()
    runner.build_marts(DATE, config=day.config, log=lambda _: None, hive=hive, hdfs_client=client)
    assert fingerprint() == before


def test_one_mart_alone_and_missing_upstream(
    built: dict[str, Any], hive: HiveSession, day: PreparedDay, client: InsecureClient
) -> None:
    results = runner.build_marts(
        DATE, ["symptom"], config=day.config, log=lambda _: None, hive=hive, hdfs_client=client
    )
    assert [r.mart for r in results] == ["managed_smartcar_symptom_info"]
    with pytest.raises(runner.MissingUpstream, match="pilot marts build --date 20200409 --mart drive"):
        runner.build_marts(
            "20200409", ["symptom"], config=day.config, log=lambda _: None, hive=hive, hdfs_client=client
        )


def test_missing_input_partition_names_path_and_loader(
    day: PreparedDay, hive: HiveSession, client: InsecureClient
) -> None:
    with pytest.raises(MissingInput) as info:
        runner.build_marts("20200403", config=day.config, log=lambda _: None, hive=hive, hdfs_client=client)
    message = str(info.value)
    assert f"{day.config.status_dir}/wrk_date=20200403" in message and "pilot load batch" in message


def test_gate_finds_duplicates_and_names_rows(
    built: dict[str, Any], hive: HiveSession, day: PreparedDay
) -> None:
    db = day.config.database
    hive.execute(f"CREATE TABLE {db}.gate_probe LIKE {db}.managed_smartcar_symptom_info")
    try:
        hive.execute(
            f"INSERT OVERWRITE TABLE {db}.gate_probe PARTITION (biz_date = '{DATE}') "
            f"SELECT car_number, drive_events, avg_speed_pedal, speed_pedal_z, 'weird', avg_break_pedal, "
            f"break_pedal_z, break_pedal_symptom, sharp_turns, sharp_turn_share, sharp_turn_symptom "
            f"FROM {db}.managed_smartcar_symptom_info WHERE biz_date = '{DATE}'"
        )
        mart = MARTS[2]
        params = {**day.config.params(DATE), "build_table": SqlIdentifier("gate_probe")}  # checks read it
        checks = [c for c in sqlfile.checks(mart.checks_file, params) if c.name == "label_domain"]
        probe_sql = checks[0].sql
        result = hive.query(probe_sql, 11)
        assert len(result.rows) >= 1 and result.rows[0][1] == "weird"
        failure = gates.GateFailed(
            gates.GateResult(mart.name, "label_domain", "labels", result.rows, result.columns),
            f"biz_date={DATE}",
        )
        assert "label_domain" in str(failure) and "speed_pedal_symptom=weird" in str(failure)
    finally:
        hive.execute(f"DROP TABLE IF EXISTS {db}.gate_probe")


def test_check_command_passes_on_built_marts(
    built: dict[str, Any], hive: HiveSession, day: PreparedDay
) -> None:
    results = runner.check_marts(DATE, config=day.config, hive=hive)
    assert results and all(r.passed for r in results)


def test_hostile_date_is_rejected_before_any_sql(day: PreparedDay) -> None:
    class Refuse:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError("no SQL may run")

    with pytest.raises(InvalidInput):
        runner.build_marts(
            "20200322'; DROP TABLE x; --",
            config=day.config,
            hive=Refuse(),  # type: ignore[arg-type]
            hdfs_client=Refuse(),
        )
    with pytest.raises(InvalidInput):
        runner.build_marts(
            DATE,
            ["managed_smartcar_status_info; DROP TABLE x"],
            config=day.config,
            hive=Refuse(),
            hdfs_client=Refuse(),
        )  # type: ignore[arg-type]


def run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli.main(list(argv))
    return code, out.getvalue()


README_QUERIES = {
    "overspeed": (
        "SELECT car_number, count(*) AS events, sum(IF(speed > 80, 1, 0)) AS over_80, "
        "round(100 * avg(IF(speed > 80, 1, 0)), 2) AS over_80_pct "
        "FROM managed_smartcar_drive_info WHERE biz_date = '{d}' "
        "GROUP BY car_number ORDER BY over_80_pct DESC, car_number LIMIT 5"
    ),
    "inspection": (
        "SELECT car_number, checks, avg_battery FROM managed_smartcar_emergency_check_info "
        "WHERE biz_date = '{d}' ORDER BY check_count DESC, car_number"
    ),
    "fastest": (
        "SELECT area_number, car_number, top_speed FROM ("
        "SELECT area_number, car_number, max(speed) AS top_speed, "
        "rank() OVER (PARTITION BY area_number ORDER BY max(speed) DESC) AS rnk "
        "FROM managed_smartcar_drive_info WHERE biz_date = '{d}' GROUP BY area_number, car_number) ranked "
        "WHERE rnk = 1 ORDER BY area_number, car_number LIMIT 10"
    ),
}


def test_pilot_sql_prints_a_table_and_csv(built: dict[str, Any], day: PreparedDay) -> None:
    db = day.config.database
    code, text = run_cli("sql", "--database", db, README_QUERIES["inspection"].format(d=DATE))
    assert code == 0 and "| car_number" in text and "row(s)" in text
    code, text = run_cli("sql", "--database", db, "--csv", README_QUERIES["overspeed"].format(d=DATE))
    assert code == 0
    lines = text.strip().splitlines()
    assert lines[0] == "car_number,events,over_80,over_80_pct" and len(lines) == 6
    code, text = run_cli("sql", "--database", db, README_QUERIES["fastest"].format(d=DATE))
    assert code == 0 and "top_speed" in text


def test_readme_queries_match_pandas(built: dict[str, Any], hive: HiveSession, day: PreparedDay) -> None:
    drive = oracle.drive_mart(day.layout_dir, DATE)
    hive.execute(f"USE {day.config.database}")
    try:
        fastest = hive.query(README_QUERIES["fastest"].format(d=DATE).replace("LIMIT 10", "")).rows
    finally:
        hive.execute("USE default")
    tops = drive.groupby(["area_number", "car_number"])["speed"].max().reset_index()
    best = tops[tops["speed"] == tops.groupby("area_number")["speed"].transform("max")]
    assert sorted(fastest) == sorted(best.itertuples(index=False, name=None))


@pytest.mark.skipif(shutil.which("java") is None, reason="beeline needs java")
def test_beeline_runs_the_same_query(built: dict[str, Any], stack: Settings, day: PreparedDay,
                                     hive: HiveSession) -> None:
    import pyspark

    beeline = Path(pyspark.__file__).parent / "bin" / "beeline"
    query = README_QUERIES["inspection"].format(d=DATE)
    proc = subprocess.run(
        [
            str(beeline),
            "-u",
            f"jdbc:hive2://{stack.hive_host}:{stack.hive_port}/{day.config.database}",
            "-n",
            stack.hive_user,
            "--silent=true",
            "--outputformat=tsv2",
            "-e",
            query,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SPARK_HOME": str(beeline.parent.parent)},
    )
    # beeline runs statements asynchronously, under a proxy of the connecting user: this passes
    # only because core-site.xml lets the service user impersonate (hadoop.proxyuser.*).
    assert proc.returncode == 0, proc.stderr[:3000]
    # with -e and no terminal, beeline may echo its prompt in front of the first line
    lines = [line.split("> ", 1)[-1] if line.startswith("0: jdbc:") else line
             for line in proc.stdout.strip().splitlines()]
    assert lines[0].split("\t") == ["car_number", "checks", "avg_battery"]
    hive.execute(f"USE {day.config.database}")
    try:
        expected = hive.query(query).rows
    finally:
        hive.execute("USE default")
    got = [line.split("\t") for line in lines[1:]]
    assert [row[:2] for row in got] == [[str(r[0]), str(r[1])] for r in expected]


def _location(hive: HiveSession, day: PreparedDay, mart: str) -> str:
    rows = hive.query(f"DESCRIBE FORMATTED {day.config.database}.{mart} PARTITION (biz_date = '{DATE}')").rows
    return next(str(r[1]).strip() for r in rows if str(r[0] or "").strip() == "Location")


def test_a_failed_gate_keeps_the_published_partition(
        built: dict[str, Any], day: PreparedDay, hive: HiveSession, client: InsecureClient,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Write-audit-publish against the real endpoint: the rebuild is written and audited, a gate
    fails, and readers still see yesterday's good partition, untouched, at the same location."""
    mart = get_mart("symptom")
    before = rows_of(fetch(hive, day, mart.name), ["car_number", "speed_pedal_symptom"])
    published = _location(hive, day, mart.name)

    def failing(session: Any, checked: Any, params: Any) -> list[gates.GateResult]:
        assert params["build_table"].render() == f"{mart.name}__audit"  # the gates read the build
        built_rows = session.scalar(f"SELECT count(*) FROM {day.config.database}.{mart.name}__audit "
                                    f"WHERE biz_date = '{DATE}'")
        assert built_rows == len(before)  # the rebuild really was written, beside the published one
        return [gates.GateResult(mart.name, "label_domain", "labels", [("A0001",)], ["car_number"])]

    monkeypatch.setattr(runner.gates, "run_gates", failing)
    with pytest.raises(gates.GateFailed, match="label_domain"):
        runner.build_marts(DATE, [mart.name], config=day.config, log=lambda _: None, hive=hive,
                           hdfs_client=client)
    assert _location(hive, day, mart.name) == published
    assert rows_of(fetch(hive, day, mart.name), ["car_number", "speed_pedal_symptom"]) == before


def test_republishing_moves_the_partition_and_keeps_one_previous_build(
        built: dict[str, Any], day: PreparedDay, hive: HiveSession, client: InsecureClient) -> None:
    mart = get_mart("emergency")
    before = rows_of(fetch(hive, day, mart.name), ["car_number"])
    locations = [_location(hive, day, mart.name)]
    for _ in range(2):
        runner.build_marts(DATE, [mart.name], config=day.config, log=lambda _: None, hive=hive,
                           hdfs_client=client)
        locations.append(_location(hive, day, mart.name))
    assert len(set(locations)) == 3  # every publish points the partition at the new build
    assert rows_of(fetch(hive, day, mart.name), ["car_number"]) == before
    builds = urlparse(locations[-1]).path.rsplit("/", 1)[0]
    assert sorted(client.list(builds)) == sorted(urlparse(x).path.rsplit("/", 1)[1] for x in locations[-2:])


def test_a_publish_waits_for_the_exports_reading_the_partition(
        built: dict[str, Any], day: PreparedDay, hive: HiveSession, client: InsecureClient,
        stack: Settings) -> None:
    """An export holds the partition's shared lock while it reads the current build: a rebuild
    is written and audited meanwhile, but it publishes (and removes old builds) only after the
    export let go, so the export never reads a build that is being replaced or removed."""
    import contextlib
    import threading
    import time

    import psycopg2

    from pilot.partition_locks import partition_key, partition_lock

    mart = get_mart("status")
    key = partition_key(day.config.database, mart.name, mart.partition_column, DATE)
    being_read = _location(hive, day, mart.name)
    outcome: dict[str, Any] = {}

    def rebuild() -> None:
        try:
            outcome["results"] = runner.build_marts(DATE, [mart.name], config=day.config, settings=stack,
                                                    log=lambda _: None, hdfs_client=client)
        except Exception as exc:  # asserted below
            outcome["error"] = exc

    with partition_lock(stack, key, exclusive=False):  # what an export holds while reading
        thread = threading.Thread(target=rebuild)
        thread.start()
        waiting = 0
        with contextlib.closing(psycopg2.connect(stack.postgres_dsn)) as pg:
            pg.autocommit = True
            deadline = time.monotonic() + 300
            while not waiting and thread.is_alive() and time.monotonic() < deadline:
                with pg.cursor() as cur:
                    cur.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
                    waiting = cur.fetchone()[0]
                time.sleep(0.2)
        assert waiting, f"the rebuild never waited to publish: {outcome}"
        assert _location(hive, day, mart.name) == being_read  # not switched while it is read
        assert client.status(urlparse(being_read).path, strict=False) is not None
    thread.join(timeout=300)
    assert "error" not in outcome, outcome
    assert _location(hive, day, mart.name) != being_read  # published once the reader was done
