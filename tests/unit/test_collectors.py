"""Collectors: line reading, validation helpers, reports, pacing, the live producer, the CLI."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from ingest.collectors.lines import LineReader, last_line_end
from ingest.collectors.live import LiveOptions, produce_share
from ingest.collectors.pacing import SimulatedClock, TokenBucket, slice_size
from ingest.collectors.report import CollectReport, ReconcileError
from ingest.collectors.validate import check_wrk_date, status_record
from ingest.records import Rejected
from ingest.simulator import SimulatorConfig, iter_drive_events, make_fleet
from ingest.stopping import StopFlag
from orchestration.cli import main
from pilot.errors import PilotError
from tests.unit.test_collectors_fakes import Crash, FakeBroker, settings, transactional_outbox

PILOT_CLI = (sys.executable, "-m", "orchestration.cli")
SOURCE = "live/test"


# ---- reading lines ---------------------------------------------------------------------------
def test_line_reader_offsets_point_past_each_batch(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"a\nbb\r\nccc\nd")
    fd = os.open(path, os.O_RDONLY)
    try:
        reader = LineReader(fd, block_size=3)
        assert reader.read_batch(2) == [b"a", b"bb\r"]
        assert (reader.offset, reader.line) == (6, 2)
        assert reader.read_batch(5) == [b"ccc"]  # "d" has no newline yet
        assert (reader.offset, reader.line) == (10, 3)
        assert reader.read_batch(5) == []
        assert reader.read_batch(5, final=True) == [b"d"]
        assert (reader.offset, reader.line) == (11, 4)
        again = LineReader(fd, offset=6, line=2)
        assert again.read_batch(10, final=True) == [b"ccc", b"d"]
        assert last_line_end(fd, 11) == 10 and last_line_end(fd, 2) == 2 and last_line_end(fd, 1) == 0
    finally:
        os.close(fd)


# ---- validation, dates, reports -----------------------------------------------------------------
@pytest.mark.parametrize("text", ["20200230", "2020032", "20201301", "2020-03-22", "abcdefgh"])
def test_wrk_date_must_be_a_real_date(text: str) -> None:
    with pytest.raises(PilotError, match="not a real date"):
        check_wrk_date(text)


def test_wrk_date_defaults_to_today() -> None:
    assert check_wrk_date(None) == dt.date.today().strftime("%Y%m%d")
    assert check_wrk_date("20200229") == "20200229"


def test_status_record_normalises_and_appends_wrk_date() -> None:
    raw = b"\xef\xbb\xbf20200322000004, A0001,090,91,92,93,1,1,1,1,A,A,95\r"
    key, value = status_record(raw, b"20200323")
    assert key == b"A0001"
    assert value == b"20200322000004,A0001,90,91,92,93,1,1,1,1,A,A,95,20200323"
    with pytest.raises(Rejected) as exc:
        status_record(b"SmartCar status log 2020", b"20200323")
    assert exc.value.reason == "header"


def test_report_must_reconcile() -> None:
    report = CollectReport("x", read=3, produced=2)
    report.reject("header")
    with pytest.raises(ReconcileError, match="do not add up"):
        report.check()
    good = CollectReport("x", read=1, produced=1)
    good.reject("empty")
    assert good.check() is good
    assert "read 2 = produced 1 + rejected 1" in good.describe()


# ---- pacing ------------------------------------------------------------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_paces_to_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(1000, burst=10, clock=clock)
    assert bucket.reserve(10) == 0.0  # the burst is there at once
    assert bucket.reserve(100) == pytest.approx(0.1)  # 100 more events need 0.1 s
    clock.now += 0.1
    assert bucket.reserve(50) == pytest.approx(0.05)
    clock.now += 10  # idle time saves up at most the burst
    assert bucket.reserve(10) == 0.0
    assert bucket.reserve(1) == pytest.approx(0.001)


def test_token_bucket_long_run_average() -> None:
    clock = FakeClock()
    bucket = TokenBucket(5000, clock=clock)
    start, sent = clock.now, 0
    for _ in range(1000):
        clock.now += bucket.reserve(100)  # sleep exactly as told
        sent += 100
    assert sent / (clock.now - start) == pytest.approx(5000, rel=0.01)


def test_simulated_clock_speedup() -> None:
    clock = FakeClock()
    sim = SimulatedClock(20, clock=clock)
    assert sim.wait_for(3600) == 0.0  # starts the clock
    assert sim.wait_for(3620) == pytest.approx(1.0)  # 20 simulated s = 1 real s at 20x
    clock.now += 0.5
    assert sim.wait_for(3620) == pytest.approx(0.5)
    assert slice_size(None) is None and slice_size(1000) == 20 and slice_size(10) == 1
    opts = LiveOptions(date="20200322", cars=100, speedup=20)
    assert opts.events_per_second == 1000  # the original pilot's load


def test_live_options_are_checked() -> None:
    with pytest.raises(PilotError, match="not both"):
        LiveOptions(date="20200322", rate=10, speedup=2)
    with pytest.raises(PilotError, match="--date"):
        LiveOptions(date="20200231")
    with pytest.raises(PilotError, match="--cars"):
        LiveOptions(date="20200322", cars=0)


# ---- live ----------------------------------------------------------------------------------------
def test_live_limit_gives_the_simulators_first_events(tmp_path: Path) -> None:
    s = settings(tmp_path)
    broker = FakeBroker()
    config = SimulatorConfig(day_seconds=600)
    opts = LiveOptions(date="20200322", cars=7, seed=3, limit=1234, config=config)
    report = produce_share(s, opts, transactional_outbox(s, broker, SOURCE), StopFlag())
    expected = list(iter_drive_events(make_fleet(7, 3), "20200322", 3, config))[:1234]
    assert report.read == report.produced == 1234
    assert [v.decode() for v in broker.values("drive")] == expected
    assert all(k.decode() == v.decode().split(",")[1] for k, v in broker.records("drive"))


def test_live_workers_split_cars_and_together_produce_everything(tmp_path: Path) -> None:
    s = settings(tmp_path)
    config = SimulatorConfig(day_seconds=600)
    expected = list(iter_drive_events(make_fleet(9, 1), "20200322", 1, config))[:2000]
    per_worker = []
    for worker in range(2):
        broker = FakeBroker()
        opts = LiveOptions(date="20200322", cars=9, seed=1, limit=2000, config=config)
        report = produce_share(s, opts, transactional_outbox(s, broker, SOURCE), StopFlag(), worker, 2)
        assert report.read == len(broker.values("drive"))
        per_worker.append([v.decode() for v in broker.values("drive")])
    cars = [{line.split(",")[1] for line in lines} for lines in per_worker]
    assert not cars[0] & cars[1]
    by_car: dict[str, list[str]] = defaultdict(list)
    for line in expected:
        by_car[line.split(",")[1]].append(line)
    for lines in per_worker:
        got: dict[str, list[str]] = defaultdict(list)
        for line in lines:
            got[line.split(",")[1]].append(line)
        for car, events in got.items():
            assert events == by_car[car]  # same events, same order per car
    assert sorted(per_worker[0] + per_worker[1]) == sorted(expected)


def test_live_crash_then_restart_sends_every_event_once_and_a_rerun_sends_none(tmp_path: Path) -> None:
    s = settings(tmp_path)
    broker = FakeBroker()
    config = SimulatorConfig(day_seconds=600)
    opts = LiveOptions(date="20200322", cars=7, seed=3, config=config, commit_records=500)
    expected = [line.encode() for line in iter_drive_events(make_fleet(7, 3), "20200322", 3, config)]
    broker.crash_after = 1_234  # the process dies inside its third transaction
    with pytest.raises(Crash):
        produce_share(s, opts, transactional_outbox(s, broker, SOURCE), StopFlag())
    assert broker.values("drive") == expected[:1_000]
    assert broker.ledger(SOURCE)["position"] == 1_000  # type: ignore[index]
    broker.crash_after = None
    report = produce_share(s, opts, transactional_outbox(s, broker, SOURCE), StopFlag())
    assert report.produced == len(expected) - 1_000 and report.files[0]["resumed_at"] == 1_000
    assert broker.values("drive") == expected
    assert broker.ledger(SOURCE)["complete"] is True  # type: ignore[index]
    rerun = produce_share(s, opts, transactional_outbox(s, broker, SOURCE), StopFlag())
    assert rerun.produced == 0 and rerun.files[0]["already_collected"] is True
    assert broker.values("drive") == expected
    again = produce_share(s, LiveOptions(date="20200322", cars=7, seed=3, config=config, from_scratch=True),
                          transactional_outbox(s, broker, SOURCE), StopFlag())
    assert again.produced == len(expected)  # on purpose


def test_live_limit_then_more_continues_where_the_limit_stopped(tmp_path: Path) -> None:
    s = settings(tmp_path)
    broker = FakeBroker()
    config = SimulatorConfig(day_seconds=600)
    expected = [line.encode() for line in iter_drive_events(make_fleet(5, 2), "20200322", 2, config)]
    for limit in (300, 300, 800, None):
        opts = LiveOptions(date="20200322", cars=5, seed=2, limit=limit, config=config)
        produce_share(s, opts, transactional_outbox(s, broker, SOURCE), StopFlag())
    assert broker.values("drive") == expected


def test_live_paced_run_keeps_the_rate(tmp_path: Path) -> None:
    s = settings(tmp_path)
    broker = FakeBroker()
    opts = LiveOptions(date="20200322", cars=10, rate=2000, limit=600,
                       config=SimulatorConfig(day_seconds=600))
    report = produce_share(s, opts, transactional_outbox(s, broker, SOURCE), StopFlag())
    assert report.read == 600
    assert 0.2 < report.seconds < 5.0  # 600 events at 2,000/s: about 0.3 s minus the burst


# ---- command line --------------------------------------------------------------------------------
@pytest.mark.parametrize("argv", [["collect", "--help"], ["collect", "spool", "--help"],
                                  ["collect", "tail", "--help"], ["collect", "live", "--help"]])
def test_collect_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 0
    assert "usage: pilot collect" in capsys.readouterr().out


def test_bad_wrk_date_is_one_line_without_kafka(tmp_path: Path) -> None:
    proc = subprocess.run([*PILOT_CLI, "collect", "spool", "--dir", str(tmp_path),
                           "--wrk-date", "20200230", "--once"], capture_output=True, text=True,
                          env={**os.environ, "PILOT_VAR_DIR": str(tmp_path / "var")}, timeout=60)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "--wrk-date '20200230' is not a real date" in proc.stderr


# ---- the bulk path's record encoding -----------------------------------------------------------
def test_fast_encoding_matches_kafka_python_and_decodes() -> None:
    from kafka.record.memory_records import MemoryRecords, MemoryRecordsBuilder

    from ingest.collectors.encoding import append_many, fast_encoding_ok, varint

    assert fast_encoding_ok()
    assert [varint(v) for v in (0, 1, 63, 64, -1)] == [b"\x00", b"\x02", b"\x7e", b"\x80\x01", b"\x01"]
    records = [(b"A%04d" % i, f"20200322000000,A{i:04d},1,0,F,N,{i},A01".encode()) for i in range(1, 500)]
    builder = MemoryRecordsBuilder(2, 0, 4096)  # small: fills up
    builder.append(1_000, *records[0])
    stop = append_many(builder, records, 1, 1_007)
    assert 1 < stop < len(records)
    assert append_many(builder, records, stop, 1_007) == stop  # full stays full
    builder.close()
    batch = next(iter(MemoryRecords(bytes(builder.buffer()))))
    decoded = [(r.key, r.value, r.timestamp) for r in batch]
    assert [(k, v) for k, v, _ in decoded] == records[:stop]
    assert [t for _, _, t in decoded] == [1_000] + [1_007] * (stop - 1)


def test_a_failed_batch_completed_successfully_counts_as_failed() -> None:
    """kafka-python completes aborted/failed batches with success((offset, ts, record_errors))."""
    from kafka.errors import KafkaTimeoutError
    from kafka.producer.future import FutureProduceResult

    from ingest.collectors.delivery import BulkDelivery

    ok, aborted = FutureProduceResult(("t", 0)), FutureProduceResult(("t", 1))
    ok.success((10, -1, None))
    aborted.success((-1, -1, lambda _: KafkaTimeoutError("expired")))
    delivery = BulkDelivery()
    items = [(b"k", b"a"), (b"k", b"b"), (b"k", b"c")]
    delivery.segments += [("t", items, 0, 2, ok), ("t", items, 2, 3, aborted)]
    assert delivery.wait(0.1)
    failed, error = delivery.failed()
    assert failed == {"t": [(b"k", b"c")]} and isinstance(error, KafkaTimeoutError)
    assert delivery.unconfirmed() == 1
