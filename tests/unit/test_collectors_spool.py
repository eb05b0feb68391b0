"""The spool collector: done markers, validation to the DLQ, the ledger and crash recovery."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from ingest.collectors.ledger import file_source
from ingest.collectors.spool import SpoolCollector, SpoolOptions, ready_files
from ingest.collectors.transactions import TransactionalOutbox
from ingest.dlq import DeadLetter
from ingest.records import parse_collected_status_line
from ingest.simulator import SimulatorConfig, make_fleet
from ingest.simulator.status import write_status_day
from ingest.stopping import StopFlag
from tests.unit.test_collectors_fakes import Crash, FakeBroker, settings, transactional_outbox

GOOD = "20200322000004,A0001,90,91,92,93,1,1,1,1,A,A,95"


def status_file(folder: Path, cars: int = 3, day_seconds: int = 600) -> Path:
    fleet = make_fleet(cars, 42)
    result = write_status_day(folder, fleet, "20200322", 42, SimulatorConfig(day_seconds=day_seconds))
    return Path(result.path)


def collector(tmp_path: Path, broker: FakeBroker, folder: Path, stop: StopFlag | None = None,
              **kw: object) -> SpoolCollector:
    s = settings(tmp_path)
    opts = SpoolOptions(directory=folder, wrk_date=str(kw.pop("wrk_date", "20200323")), once=True, **kw)
    return SpoolCollector(s, opts, lambda source: transactional_outbox(s, broker, source), broker.ledger,
                          stop)


def test_collects_a_file_appends_wrk_date_and_renames_it(tmp_path: Path) -> None:
    folder = tmp_path / "spool"
    path = status_file(folder)
    lines = path.read_bytes().decode().splitlines()
    broker = FakeBroker()
    report = collector(tmp_path, broker, folder).run()
    assert report.read == report.produced == len(lines) and report.rejected == 0
    assert broker.values("status") == [f"{line},20200323".encode() for line in lines]
    assert all(key == value[15:20] for key, value in broker.records("status"))
    for value in broker.values("status")[:50]:
        assert parse_collected_status_line(value)[-1] == "20200323"
    assert not path.exists() and path.with_name(path.name + ".COMPLETED").is_file()
    entry = broker.ledger(file_source(path.with_name(path.name + ".COMPLETED")))
    assert entry is not None and entry["done"] and entry["produced"] == len(lines)
    assert report.files[0]["done"] == path.name + ".COMPLETED"


def test_bad_lines_go_to_the_dlq_with_reasons_and_counts_add_up(tmp_path: Path) -> None:
    folder = tmp_path / "spool"
    folder.mkdir()
    lines = [
        b"reg_date,car_number,tire_fl",  # header
        GOOD.encode(),
        b"20200322000004,A0001,90,91",  # field_count
        GOOD.replace(",90,", ",9x,").encode(),  # bad_number
        GOOD.replace(",95", ",101").encode(),  # out_of_range
        GOOD.replace("20200322000004", "20200322250000").encode(),  # bad_timestamp
        GOOD.replace("A0001", "Z0099").encode(),  # unknown_car (not in the master)
        GOOD.encode()[:30] + b"\xff\xfe" + GOOD.encode()[32:],  # undecodable
        b"",  # empty
        b"12345,A0001",  # does not start with a 14-digit timestamp: header, as the original
    ]
    path = folder / "SmartCarStatusInfo_20200322.txt"
    path.write_bytes(b"\n".join(lines) + b"\n")
    broker = FakeBroker()
    report = collector(tmp_path, broker, folder, known_cars=frozenset({"A0001"})).run()
    assert (report.read, report.produced, report.rejected) == (10, 1, 9)
    letters = [DeadLetter.from_json(v) for v in broker.values("dlq")]
    assert [(d.line, d.reason) for d in letters] == [
        (1, "header"), (3, "field_count"), (4, "bad_number"), (5, "out_of_range"), (6, "bad_timestamp"),
        (7, "unknown_car"), (8, "undecodable"), (9, "empty"), (10, "header")]
    assert Counter(report.reasons) == Counter(d.reason for d in letters)
    assert letters[6].raw == GOOD[:30] + "\\xff\\xfe" + GOOD[32:]
    assert all(d.source == f"spool:{path.resolve()}" for d in letters)
    assert {k for k, _ in broker.records("dlq")} == {f"spool:{path.resolve()}".encode()}


def test_on_done_delete(tmp_path: Path) -> None:
    folder = tmp_path / "spool"
    path = status_file(folder)
    collector(tmp_path, FakeBroker(), folder, on_done="delete").run()
    assert not path.exists() and not list(folder.glob("*.COMPLETED"))


def test_only_complete_files_are_taken(tmp_path: Path) -> None:
    folder = tmp_path / "spool"
    folder.mkdir()
    for name in ("SmartCarStatusInfo_1.txt.part", "SmartCarStatusInfo_2.txt.tmp", ".SmartCarStatusInfo_3.txt",
                 "SmartCarStatusInfo_4.txt.COMPLETED", "other.txt", "SmartCarStatusInfo_5.txt"):
        (folder / name).write_text(GOOD + "\n")
    opts = SpoolOptions(directory=folder, wrk_date="20200322")
    assert [p.name for p in ready_files(opts)] == ["SmartCarStatusInfo_5.txt"]
    marked = SpoolOptions(directory=folder, wrk_date="20200322", require_marker=True)
    assert ready_files(marked) == []
    (folder / "SmartCarStatusInfo_5.txt.done").touch()
    assert [p.name for p in ready_files(marked)] == ["SmartCarStatusInfo_5.txt"]
    broker = FakeBroker()
    collector(tmp_path, broker, folder, require_marker=True).run()
    assert not (folder / "SmartCarStatusInfo_5.txt.done").exists()
    assert (folder / "SmartCarStatusInfo_5.txt.COMPLETED").exists()
    assert len(broker.values("status")) == 1


def test_crash_mid_file_then_restart_sends_every_line_once(tmp_path: Path) -> None:
    folder = tmp_path / "spool"
    path = status_file(folder, cars=5, day_seconds=3600)  # 4,500 lines
    source = path.read_bytes().decode().splitlines()
    key = file_source(path)
    broker = FakeBroker()
    broker.crash_after = 2_350  # mid transaction 5 (batches of 500)
    with pytest.raises(Crash):
        collector(tmp_path, broker, folder, batch_lines=500).run()
    entry = broker.ledger(key)
    assert entry is not None and entry["line"] == 2_000 and entry["produced"] == 2_000
    assert entry["offset"] == sum(len(line) + 1 for line in source[:2_000])
    assert path.exists() and len(broker.values("status")) == 2_000  # the open transaction is not visible

    broker.crash_after = None
    report = collector(tmp_path, broker, folder, batch_lines=500).run()
    assert report.read == report.produced == 2_500  # resumed at line 2,001
    assert report.files[0]["resumed_at_line"] == 2_000
    assert [v.decode() for v in broker.values("status")] == [f"{line},20200323" for line in source]
    assert not path.exists() and broker.ledger(key)["done"] is True  # type: ignore[index]


def test_resume_keeps_the_files_wrk_date(tmp_path: Path) -> None:
    folder = tmp_path / "spool"
    status_file(folder)
    broker = FakeBroker()
    broker.crash_after = 100
    with pytest.raises(Crash):
        collector(tmp_path, broker, folder, batch_lines=50, wrk_date="20200322").run()
    broker.crash_after = None
    collector(tmp_path, broker, folder, batch_lines=50, wrk_date="20200401").run()
    assert {v[-8:] for v in broker.values("status")} == {b"20200322"}


def test_a_copy_of_a_collected_file_is_only_marked_done(tmp_path: Path) -> None:
    """A rerun (or an Airflow retry) drops the same content in again: nothing is sent twice."""
    folder = tmp_path / "spool"
    path = status_file(folder)
    content = path.read_bytes()
    broker = FakeBroker()
    first = collector(tmp_path, broker, folder).run()
    path.write_bytes(content)  # a new file (inode) with the same content
    again = collector(tmp_path, broker, folder).run()
    assert first.produced == len(content.splitlines()) == len(broker.values("status"))
    assert again.read == again.produced == 0
    assert again.files[0]["already_collected"] is True
    assert again.files[0]["file_totals"]["produced"] == first.produced
    assert again.files[0]["done"] == path.name + ".COMPLETED" and not path.exists()


def test_a_file_with_other_content_is_a_new_source(tmp_path: Path) -> None:
    folder = tmp_path / "spool"
    path = status_file(folder)
    broker = FakeBroker()
    collector(tmp_path, broker, folder).run()
    path.write_text(GOOD + "\n")
    report = collector(tmp_path, broker, folder).run()
    assert report.produced == 1 and broker.values("status")[-1] == f"{GOOD},20200323".encode()


def test_stop_finishes_the_batch_and_commits_its_position(tmp_path: Path) -> None:
    folder = tmp_path / "spool"
    path = status_file(folder)
    stop = StopFlag()
    broker = FakeBroker()
    s = settings(tmp_path)

    def outbox_then_stop(source: str) -> TransactionalOutbox:
        box = transactional_outbox(s, broker, source)
        original = box.submit

        def submit_then_stop(records):  # type: ignore[no-untyped-def]
            original(records)
            stop.set()

        box.submit = submit_then_stop  # type: ignore[method-assign]
        return box

    opts = SpoolOptions(directory=folder, wrk_date="20200323", once=True, batch_lines=100)
    report = SpoolCollector(s, opts, outbox_then_stop, broker.ledger, stop).run()
    assert report.read == 100 == len(broker.values("status"))
    assert broker.ledger(file_source(path))["line"] == 100  # type: ignore[index]
    assert path.exists()
