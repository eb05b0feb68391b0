"""Collectors against the real Kafka: round trips, crash recovery, the DLQ, tail, outage, live.

Each module run uses its own topics (``it-<id>-status|drive|dlq|ledger``, deleted afterwards) and
reads back from the end offsets recorded before each run, so data already in Kafka does not
interfere. Collection is exactly once: every check compares the records with the source exactly.
Only Kafka is needed: the fixture starts it if it is down (and stops it again at the end unless
PILOT_KEEP_STACK=1).
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from ingest.collectors.ledger import file_source, read_entry
from ingest.collectors.outbox import Outbox
from ingest.collectors.spool import SpoolCollector, SpoolOptions
from ingest.collectors.tail import TailCollector, TailOptions
from ingest.collectors.transactions import TransactionalOutbox
from ingest.dlq import DeadLetter
from ingest.kafka_io import partition_for
from ingest.records import parse_drive_line
from ingest.simulator import SimulatorConfig, iter_drive_events, make_fleet, simulate_day
from ingest.topics import ensure_topics
from pilot.settings import REPO_ROOT, Settings, get_settings
from stack import manager

PILOT_CLI = (sys.executable, "-m", "orchestration.cli")

DATE = "20200322"


# ---- fixtures and helpers ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def kafka() -> Iterator[Settings]:
    base = get_settings()
    was_up = any(st.state == "up" for st in manager.status(base, ["kafka"]))
    manager.up(base, ["kafka"])
    uid = uuid.uuid4().hex[:8]
    s = dataclasses.replace(base, topic_status=f"it-{uid}-status", topic_drive=f"it-{uid}-drive",
                            topic_dlq=f"it-{uid}-dlq", topic_collect_ledger=f"it-{uid}-ledger")
    ensure_topics(s, partitions=3)
    yield s
    try:
        admin = KafkaAdminClient(bootstrap_servers=s.kafka_bootstrap)
        admin.delete_topics([s.topic_status, s.topic_drive, s.topic_dlq, s.topic_collect_ledger])
        admin.close()
    except Exception as exc:  # cleanup only
        print(f"could not delete the test topics: {exc}")
    if not was_up and os.environ.get("PILOT_KEEP_STACK") != "1":
        manager.down(base, ["kafka"])


def env_for(s: Settings) -> dict[str, str]:
    return {**os.environ, "PILOT_TOPIC_STATUS": s.topic_status, "PILOT_TOPIC_DRIVE": s.topic_drive,
            "PILOT_TOPIC_DLQ": s.topic_dlq, "PILOT_TOPIC_COLLECT_LEDGER": s.topic_collect_ledger,
            "PYTHONUNBUFFERED": "1"}


def pilot(s: Settings, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PILOT_CLI, *args], capture_output=True, text=True,
                          env=env_for(s), cwd=REPO_ROOT, timeout=timeout)


def consumer(s: Settings) -> KafkaConsumer:
    return KafkaConsumer(bootstrap_servers=s.kafka_bootstrap, enable_auto_commit=False, group_id=None,
                         consumer_timeout_ms=1000, isolation_level="read_committed")


def end_offsets(s: Settings, topic: str) -> dict[TopicPartition, int]:
    c = consumer(s)
    try:
        parts = [TopicPartition(topic, p) for p in sorted(c.partitions_for_topic(topic) or [])]
        return dict(c.end_offsets(parts))
    finally:
        c.close()


def read_since(s: Settings, start: dict[TopicPartition, int]) -> list:
    """Every record from ``start`` up to the current end of each partition."""
    c = consumer(s)
    try:
        parts = list(start)
        end = c.end_offsets(parts)
        c.assign(parts)
        for tp, offset in start.items():
            c.seek(tp, offset)
        out = []
        deadline = time.monotonic() + 60
        while any(c.position(tp) < end[tp] for tp in parts) and time.monotonic() < deadline:
            for batch in c.poll(timeout_ms=500, max_records=100_000).values():
                out.extend(batch)
        return out
    finally:
        c.close()


def outbox(s: Settings, mode: str = "auto") -> Outbox:
    """The tail collector's outbox (at least once; see ``ingest.collectors.tail``)."""
    return Outbox(s, "an integration test", mode=mode)


# ---- (a) a simulated day round trip ----------------------------------------------------------------
@pytest.mark.parametrize("mode", ["bulk", "send"])
def test_spool_round_trip_of_a_simulated_day(kafka: Settings, tmp_path: Path, mode: str) -> None:
    seed = {"bulk": 11, "send": 12}[mode]  # a file's content is collected once: one day per mode
    simulate_day(tmp_path, DATE, cars=5, seed=seed, config=SimulatorConfig(day_seconds=7200),
                 only=["master", "status"])
    source = (tmp_path / f"SmartCarStatusInfo_{DATE}.txt").read_text().splitlines()
    start, dlq_start = end_offsets(kafka, kafka.topic_status), end_offsets(kafka, kafka.topic_dlq)
    opts = SpoolOptions(directory=tmp_path, wrk_date="20200323", once=True, batch_lines=2000,
                        known_cars=frozenset(make_fleet(5, seed)))
    boxes: list[TransactionalOutbox] = []

    def open_outbox(source_key: str) -> TransactionalOutbox:
        boxes.append(TransactionalOutbox(kafka, "an integration test", source_key, mode=mode))
        return boxes[-1]

    report = SpoolCollector(kafka, opts, open_outbox, partial(read_entry, kafka)).run()
    assert [box.send_mode for box in boxes] == [mode]
    assert report.read == report.produced == len(source) == 5 * 1800
    records = read_since(kafka, start)
    assert Counter(r.value.decode() for r in records) == Counter(f"{line},20200323" for line in source)
    for r in records:
        assert r.key == r.value[15:20]
        assert r.partition == partition_for(r.key, 3)  # placed like the Java client would
    per_car: dict[bytes, list[bytes]] = defaultdict(list)
    for r in sorted(records, key=lambda r: (r.partition, r.offset)):
        per_car[r.key].append(r.value)
    for car, values in per_car.items():
        assert values == [f"{line},20200323".encode() for line in source if line[15:20] == car.decode()]
    assert read_since(kafka, dlq_start) == []
    assert (tmp_path / f"SmartCarStatusInfo_{DATE}.txt.COMPLETED").exists()


# ---- (b) SIGKILL mid-file, restart, rerun ------------------------------------------------------------
def test_spool_killed_mid_file_then_rerun_sends_each_line_once(kafka: Settings, tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    simulate_day(spool, DATE, cars=40, seed=5, config=SimulatorConfig(day_seconds=7200), only=["status"])
    path = spool / f"SmartCarStatusInfo_{DATE}.txt"
    source = path.read_text().splitlines()  # 72,000 lines
    key = file_source(path)
    start = end_offsets(kafka, kafka.topic_status)
    args = ("collect", "spool", "--dir", str(spool), "--once", "--wrk-date", DATE, "--batch-lines", "300")
    proc = subprocess.Popen([*PILOT_CLI, *args], env=env_for(kafka), cwd=REPO_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        entry = read_entry(kafka, key)
        if entry is not None and entry["line"] >= 9_000:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL, "the collector finished before it could be killed"
    killed_at = read_entry(kafka, key)["line"]  # type: ignore[index]
    assert 9_000 <= killed_at < len(source) and path.exists()

    # the same file dropped in again (a new inode, as an Airflow retry copies it): same source
    copy = spool / f"{path.name}.part"
    copy.write_bytes(path.read_bytes())
    os.replace(copy, path)
    done = pilot(kafka, *args, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["read"] == report["produced"] == len(source) - killed_at
    assert report["files"][0]["resumed_at_line"] == killed_at
    assert f"resuming {path.name} at line {killed_at}" in done.stderr

    expected = Counter(f"{line},{DATE}" for line in source)
    assert Counter(r.value.decode() for r in read_since(kafka, start)) == expected  # exactly once
    assert not path.exists() and read_entry(kafka, key)["done"] is True  # type: ignore[index]

    # the day's file collected again (a rerun of the day): nothing more is sent
    (spool / path.name).write_bytes("\n".join(source).encode() + b"\n")
    again = pilot(kafka, *args, "--json")
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["produced"] == 0 and report["files"][0]["already_collected"] is True
    assert report["files"][0]["file_totals"]["produced"] == len(source)
    assert Counter(r.value.decode() for r in read_since(kafka, start)) == expected


# ---- (c) bad lines ---------------------------------------------------------------------------------
GOOD = "20200322000004,{car},90,91,92,93,1,1,1,1,A,A,95"


def test_bad_lines_land_in_the_dlq_with_their_reasons(kafka: Settings, tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    simulate_day(spool, DATE, cars=3, seed=2, config=SimulatorConfig(day_seconds=600), only=["master"])
    car = make_fleet(3, 2)[0]
    good = GOOD.format(car=car)
    bad = [
        (b"reg_date,car_number,tire_fl,tire_fr", "header"),
        (f"20200322000004,{car},90,91".encode(), "field_count"),
        (good.replace(",90,", ",9x,").encode(), "bad_number"),
        (good.replace(",95", ",140").encode(), "out_of_range"),
        (good.replace("20200322000004", "20200322250000").encode(), "bad_timestamp"),
        (GOOD.format(car="Z0100" if car != "Z0100" else "Y0100").encode(), "unknown_car"),
        (good.encode()[:22] + b"\xc3\x28" + good.encode()[24:], "undecodable"),
    ]
    lines = [bad[0][0], good.encode(), *[raw for raw, _ in bad[1:]], good.replace("04,", "08,").encode()]
    (spool / f"SmartCarStatusInfo_{DATE}.txt").write_bytes(b"\n".join(lines) + b"\n")
    start, dlq_start = end_offsets(kafka, kafka.topic_status), end_offsets(kafka, kafka.topic_dlq)
    done = pilot(kafka, "collect", "spool", "--dir", str(spool), "--once", "--wrk-date", DATE,
                 "--master", str(spool / "CarMaster.txt"), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["read"], report["produced"], report["rejected"]) == (9, 2, 7)
    assert report["read"] == report["produced"] + report["rejected"]
    assert report["reasons"] == {reason: 1 for _, reason in bad}

    letters = read_since(kafka, dlq_start)
    source = f"spool:{(spool / f'SmartCarStatusInfo_{DATE}.txt').resolve()}"
    assert {r.key for r in letters} == {source.encode()}
    got = sorted((d.line, d.reason, d.raw) for d in (DeadLetter.from_json(r.value) for r in letters))
    numbers = [1, 3, 4, 5, 6, 7, 8]
    assert got == sorted((n, reason, raw.decode("utf-8", "backslashreplace"))
                         for n, (raw, reason) in zip(numbers, bad, strict=True))
    assert sorted(r.value.decode() for r in read_since(kafka, start)) == sorted(
        [f"{good},{DATE}", f"{good.replace('04,', '08,')},{DATE}"])


# ---- (d) tail with rotation and truncation ---------------------------------------------------------
def test_tail_follows_rotation_and_truncation(kafka: Settings, tmp_path: Path) -> None:
    events = list(iter_drive_events(make_fleet(4, 8), DATE, 8, SimulatorConfig(day_seconds=600)))  # 1,200
    log_file = tmp_path / "drive.log"
    log_file.write_text("\n".join(events[:300]) + "\n")
    start = end_offsets(kafka, kafka.topic_drive)
    opts = TailOptions(path=log_file, from_start=True, idle_exit=3.0, state_path=tmp_path / "tail.json",
                       batch_lines=100, poll_seconds=0.05)
    box = outbox(kafka)
    collector = TailCollector(kafka, opts, box)
    result: dict[str, object] = {}
    thread = threading.Thread(target=lambda: result.setdefault("report", collector.run()))
    thread.start()
    try:
        time.sleep(1.0)
        with log_file.open("a") as fh:
            fh.write("\n".join(events[300:500]) + "\n" + events[500][:17])  # ends mid-line
        time.sleep(0.5)
        with log_file.open("a") as fh:
            fh.write(events[500][17:] + "\n" + "\n".join(events[501:600]) + "\n")
        os.rename(log_file, tmp_path / "drive.log.1")  # rotation
        log_file.write_text("\n".join(events[600:900]) + "\n")
        time.sleep(1.0)
        with log_file.open("r+") as fh:  # truncation (copytruncate-style)
            fh.truncate(0)
        time.sleep(1.0)
        with log_file.open("a") as fh:
            fh.write("\n".join(events[900:]) + "\n")
        thread.join(timeout=30)
    finally:
        box.close()
    report = result["report"]
    assert report.read == report.produced == len(events)  # type: ignore[attr-defined]
    values = [r.value.decode() for r in read_since(kafka, start)]
    assert Counter(values) == Counter(events)
    per_car: dict[str, list[str]] = defaultdict(list)
    for r in sorted(read_since(kafka, start), key=lambda r: (r.partition, r.offset)):
        per_car[r.key.decode()].append(r.value.decode())
    for car, got in per_car.items():
        assert got == [e for e in events if parse_drive_line(e)[1] == car]


# ---- (f) live with --limit ---------------------------------------------------------------------------
@pytest.mark.parametrize("processes", ["1", "2"])
def test_live_limit_produces_the_first_n_events_in_order(kafka: Settings, processes: str) -> None:
    n = 20_000
    start = end_offsets(kafka, kafka.topic_drive)
    done = pilot(kafka, "collect", "live", "--date", DATE, "--cars", "25", "--seed", "9", "--limit", str(n),
                 "--processes", processes, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["read"] == report["produced"] == n and report["rejected"] == 0
    expected = list(iter_drive_events(make_fleet(25, 9), DATE, 9))[:n]
    records = sorted(read_since(kafka, start), key=lambda r: (r.partition, r.offset))
    assert len(records) == n
    per_car: dict[str, list[str]] = defaultdict(list)
    for r in records:
        assert r.key == r.value[15:20]
        per_car[r.key.decode()].append(r.value.decode())
    want: dict[str, list[str]] = defaultdict(list)
    for line in expected:
        want[line[15:20]].append(line)
    assert per_car == want


# ---- (g) a transaction kafka-python gave up on is sent again with a new producer -------------------
def test_failed_transactions_are_sent_again_once_kafka_is_back(kafka: Settings, tmp_path: Path) -> None:
    """Kafka frozen (SIGSTOP) mid-file with a short delivery timeout: kafka-python fails the open
    transaction's batches; the outbox waits for Kafka, fences the failed producer with a new one
    (its open transaction is aborted) and sends that transaction again: every line exactly once."""
    from ingest.kafka_io import make_producer

    base = get_settings()
    spool = tmp_path / "spool"
    simulate_day(spool, DATE, cars=40, seed=3, config=SimulatorConfig(day_seconds=7200), only=["status"])
    source = (spool / f"SmartCarStatusInfo_{DATE}.txt").read_text().splitlines()
    start = end_offsets(kafka, kafka.topic_status)
    said: list[str] = []
    boxes: list[TransactionalOutbox] = []

    def say(message: str) -> None:
        said.append(message)
        print(message)

    def short_lived(s: Settings, **overrides: object) -> object:
        return make_producer(s, delivery_timeout_ms=4000, request_timeout_ms=2000, max_block_ms=5000,
                             **overrides)

    def open_outbox(key: str) -> TransactionalOutbox:
        boxes.append(TransactionalOutbox(kafka, "the outage test", key, say=say, wait_step=1.0,
                                         reconnect_timeout=120, producer_factory=short_lived))
        return boxes[-1]

    opts = SpoolOptions(directory=spool, wrk_date=DATE, once=True, batch_lines=200)
    collector = SpoolCollector(kafka, opts, open_outbox, partial(read_entry, kafka))
    result: dict[str, object] = {}
    thread = threading.Thread(target=lambda: result.setdefault("report", collector.run()))
    (kafka_pid,) = [st.pid for st in manager.status(base, ["kafka"])]
    assert kafka_pid
    thread.start()
    frozen = False
    try:
        deadline = time.monotonic() + 60
        while not (boxes and boxes[0].transactions >= 3) and time.monotonic() < deadline:
            time.sleep(0.001)
        os.kill(kafka_pid, signal.SIGSTOP)
        frozen = True
        time.sleep(10)
    finally:
        if frozen:
            os.kill(kafka_pid, signal.SIGCONT)
        thread.join(timeout=180)
    report = result["report"]
    assert report.read == report.produced == len(source)  # type: ignore[attr-defined]
    assert any("did not commit" in m and "trying again" in m for m in said), said
    assert report.resent > 0  # type: ignore[attr-defined]
    values = [r.value.decode() for r in read_since(kafka, start)]
    assert Counter(values) == Counter(f"{line},{DATE}" for line in source)  # exactly once
