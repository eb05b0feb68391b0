"""The spool collector: done markers, validation to the DLQ, checkpoints and crash recovery."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

from ingest.collectors.checkpoint import read_state, write_state
from ingest.collectors.spool import SpoolCollector, SpoolOptions, ready_files, state_path
from ingest.dlq import DeadLetter
from ingest.records import parse_collected_status_line, status_event_id
from ingest.simulator import SimulatorConfig, make_fleet
from ingest.simulator.status import write_status_day
from ingest.stopping import StopFlag
from tests.unit.test_collectors_fakes import Crash, FakeBroker, outbox, settings

GOOD = "20200322000004,A0001,90,91,92,93,1,1,1,1,A,A,95"


def status_file(folder: Path, cars: int = 3, day_seconds: int = 600) -> Path:
    fleet = make_fleet(cars, 42)
    result = write_status_day(folder, fleet, "20200322", 42, SimulatorConfig(day_seconds=day_seconds))
    return Path(result.path)


def collector(tmp_path: Path, broker: FakeBroker, folder: Path, stop: StopFlag | None = None,
              **kw: object) -> SpoolCollector:
    s = settings(tmp_path)
    opts = SpoolOptions(directory=folder, wrk_date=str(kw.pop("wrk_date", "20200323")), once=True, **kw)
    return SpoolCollector(s, opts, outbox(s, broker), stop)


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
    assert not state_path(path).exists()
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


def test_crash_mid_file_then_restart_loses_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "spool"
    path = status_file(folder, cars=5, day_seconds=3600)  # 4,500 lines
    source = path.read_bytes().decode().splitlines()
    broker = FakeBroker()
    broker.crash_after = 2_350  # mid batch 5 (batches of 500)
    with pytest.raises(Crash):
        collector(tmp_path, broker, folder, batch_lines=500).run()
    state = read_state(state_path(path))
    assert state is not None and state["line"] == 2_000 and state["produced"] == 2_000
    assert state["offset"] == sum(len(line) + 1 for line in source[:2_000])
    assert path.exists()
    first_run = list(broker.values("status"))
    assert len(first_run) == 2_350

    broker.crash_after = None
    report = collector(tmp_path, broker, folder, batch_lines=500).run()
    assert report.read == report.produced == 2_500  # resumed at line 2,001
    assert report.files[0]["resumed_at_line"] == 2_000
    produced = [v.decode() for v in broker.values("status")]
    expected = [f"{line},20200323" for line in source]
    assert set(produced) == set(expected)  # no valid line lost
    dupes = Counter(produced) - Counter(expected)
    assert set(dupes) == set(expected[2_000:2_350])  # only the unconfirmed batch, recognisable:
    ids = Counter(status_event_id(parse_collected_status_line(v)) for v in produced)
    assert sum(n - 1 for n in ids.values()) == 350
    assert not path.exists() and not state_path(path).exists()


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


def test_checkpoint_of_a_replaced_file_is_ignored(tmp_path: Path) -> None:
    folder = tmp_path / "spool"
    path = status_file(folder)
    n = len(path.read_bytes().splitlines())
    write_state(state_path(path), {"inode": os.stat(path).st_ino + 1, "offset": 100, "line": 2,
                                   "wrk_date": "20200322", "read": 2, "produced": 2, "rejected": 0,
                                   "reasons": {}})
    broker = FakeBroker()
    report = collector(tmp_path, broker, folder).run()
    assert report.read == n == len(broker.values("status"))


def test_checkpoint_at_end_of_file_only_marks_it_done(tmp_path: Path) -> None:
    """A crash after the last batch was confirmed but before the rename: nothing is sent again."""
    folder = tmp_path / "spool"
    path = status_file(folder)
    st = os.stat(path)
    write_state(state_path(path), {"inode": st.st_ino, "offset": st.st_size, "line": 450,
                                   "wrk_date": "20200322", "read": 450, "produced": 450, "rejected": 0,
                                   "reasons": {}})
    broker = FakeBroker()
    report = collector(tmp_path, broker, folder).run()
    assert report.read == 0 and broker.log == []
    assert path.with_name(path.name + ".COMPLETED").exists()


def test_orphan_checkpoints_are_removed(tmp_path: Path) -> None:
    folder = tmp_path / "spool"
    folder.mkdir()
    orphan = folder / ".pilot-spool" / "SmartCarStatusInfo_19990101.txt.json"
    write_state(orphan, {"inode": 1})
    collector(tmp_path, FakeBroker(), folder).run()
    assert not orphan.exists()


def test_stop_finishes_the_batch_and_keeps_the_checkpoint(tmp_path: Path) -> None:
    folder = tmp_path / "spool"
    path = status_file(folder)
    stop = StopFlag()
    broker = FakeBroker()
    spool = collector(tmp_path, broker, folder, stop, batch_lines=100)
    original = spool.outbox.submit

    def submit_then_stop(records, on_confirmed=None):  # type: ignore[no-untyped-def]
        original(records, on_confirmed)
        stop.set()

    spool.outbox.submit = submit_then_stop  # type: ignore[method-assign]
    report = spool.run()
    assert report.read == 100 == len(broker.values("status"))
    assert json.loads(state_path(path).read_text())["line"] == 100
    assert path.exists()
