"""The tail collector: partial lines, rotation, truncation, restart from the state file."""

from __future__ import annotations

import os
from pathlib import Path

from ingest.collectors.checkpoint import read_state
from ingest.collectors.tail import TailCollector, TailOptions, default_state_path
from ingest.dlq import DeadLetter
from tests.unit.test_collectors_fakes import FakeBroker, outbox, settings


def line(i: int, car: str = "A0001") -> str:
    return f"20200322{i // 3600:02d}{i // 60 % 60:02d}{i % 60:02d},{car},1,0,F,N,{i % 200},A01"


def block(first: int, n: int) -> str:
    return "".join(line(i) + "\n" for i in range(first, first + n))


def tailer(tmp_path: Path, broker: FakeBroker, path: Path, **kw: object) -> TailCollector:
    s = settings(tmp_path)
    opts = TailOptions(path=path, state_path=tmp_path / "tail.json", poll_seconds=0.01, **kw)
    return TailCollector(s, opts, outbox(s, broker))


def produced(broker: FakeBroker) -> list[str]:
    return [v.decode() for v in broker.values("drive")]


def drain(t: TailCollector) -> None:
    for _ in range(20):
        if not t.step():
            return


def started(tmp_path: Path, broker: FakeBroker, path: Path, **kw: object) -> TailCollector:
    """A tailer started and drained: what the file holds now has been read."""
    t = tailer(tmp_path, broker, path, **kw)
    t.start()
    drain(t)
    return t


def crash(t: TailCollector) -> None:
    """The tailer dies without a goodbye: its file is closed, its state file stays as it was."""
    os.close(t.current.fd)  # type: ignore[union-attr]


def append(path: Path, text: str) -> None:
    with path.open("a") as fh:
        fh.write(text)


def test_from_start_waits_for_the_newline_of_a_partial_line(tmp_path: Path) -> None:
    log_file = tmp_path / "drive.log"
    log_file.write_text(block(0, 3) + line(3)[:20])
    broker = FakeBroker()
    t = started(tmp_path, broker, log_file, from_start=True)
    assert produced(broker) == [line(i) for i in range(3)]
    append(log_file, line(3)[20:] + "\n")
    drain(t)
    assert produced(broker) == [line(i) for i in range(4)]
    state = read_state(tmp_path / "tail.json")
    assert state is not None and state["offset"] == log_file.stat().st_size and state["line"] == 4


def test_default_start_is_the_end_of_the_file(tmp_path: Path) -> None:
    log_file = tmp_path / "drive.log"
    log_file.write_text(block(0, 5) + line(5)[:10])
    broker = FakeBroker()
    t = started(tmp_path, broker, log_file)
    assert produced(broker) == []
    append(log_file, line(5)[10:] + "\n" + line(6) + "\n")
    drain(t)
    assert produced(broker) == [line(5), line(6)]  # the line being written when we started counts


def test_rotation_finishes_the_old_file_then_follows_the_new_one(tmp_path: Path) -> None:
    log_file = tmp_path / "drive.log"
    log_file.write_text(block(0, 10))
    broker = FakeBroker()
    t = started(tmp_path, broker, log_file, from_start=True, batch_lines=4)
    append(log_file, block(10, 5) + line(15))  # written just before the rotation, last line unterminated
    os.rename(log_file, tmp_path / "drive.log.1")
    log_file.write_text(block(100, 3))
    drain(t)
    assert produced(broker) == [line(i) for i in range(16)] + [line(i) for i in range(100, 103)]
    state = read_state(tmp_path / "tail.json")
    assert state is not None and state["inode"] == log_file.stat().st_ino and state["line"] == 3


def test_truncation_starts_again_at_zero(tmp_path: Path) -> None:
    log_file = tmp_path / "drive.log"
    log_file.write_text(block(0, 10))
    broker = FakeBroker()
    t = started(tmp_path, broker, log_file, from_start=True)
    with log_file.open("r+") as fh:
        fh.truncate(0)
    drain(t)
    append(log_file, block(200, 2))
    drain(t)
    assert produced(broker) == [line(i) for i in range(10)] + [line(200), line(201)]


def test_restart_continues_from_the_state_file(tmp_path: Path) -> None:
    log_file = tmp_path / "drive.log"
    log_file.write_text(block(0, 6))
    broker = FakeBroker()
    t = started(tmp_path, broker, log_file, from_start=True)
    crash(t)
    append(log_file, block(6, 4))
    started(tmp_path, broker, log_file)  # from_start does not matter with a state file
    assert produced(broker) == [line(i) for i in range(10)]


def test_restart_after_rotation_while_stopped_finds_the_rotated_file(tmp_path: Path) -> None:
    log_file = tmp_path / "drive.log"
    log_file.write_text(block(0, 4))
    broker = FakeBroker()
    t = started(tmp_path, broker, log_file, from_start=True)
    crash(t)
    append(log_file, block(4, 3))
    os.rename(log_file, tmp_path / "drive.log.1")
    log_file.write_text(block(50, 2))
    started(tmp_path, broker, log_file)
    assert produced(broker) == [line(i) for i in range(7)] + [line(50), line(51)]


def test_bad_lines_go_to_the_dlq_and_idle_exit_ends_the_run(tmp_path: Path) -> None:
    log_file = tmp_path / "drive.log"
    log_file.write_text(line(0) + "\n" + "20200322000002,A0001,3,2,F,N,10,A01\n" + "garbage\n")
    broker = FakeBroker()
    report = tailer(tmp_path, broker, log_file, from_start=True, idle_exit=0.05).run()
    assert (report.read, report.produced, report.rejected) == (3, 1, 2)
    letters = [DeadLetter.from_json(v) for v in broker.values("dlq")]
    assert [(d.line, d.reason) for d in letters] == [(2, "inconsistent"), (3, "header")]
    assert letters[0].source == f"tail:{log_file.resolve()}"


def test_missing_file_is_waited_for(tmp_path: Path) -> None:
    log_file = tmp_path / "later.log"
    broker = FakeBroker()
    t = tailer(tmp_path, broker, log_file)
    t.start()
    assert not t.step()
    log_file.write_text(block(0, 2))
    drain(t)
    assert produced(broker) == [line(0), line(1)]


def test_default_state_path(tmp_path: Path) -> None:
    s = settings(tmp_path)
    assert default_state_path(s, Path("/x/drive.log")) == s.var_dir / "collect" / "tail-drive.log.json"


def test_a_state_file_of_another_path_is_ignored(tmp_path: Path) -> None:
    other = tmp_path / "other" / "drive.log"
    other.parent.mkdir()
    other.write_text(block(0, 3))
    broker = FakeBroker()
    t = started(tmp_path, broker, other, from_start=True)
    crash(t)
    log_file = tmp_path / "drive.log"
    log_file.write_text(block(10, 2))
    started(tmp_path, broker, log_file, from_start=True)  # same state file, different log
    assert produced(broker) == [line(i) for i in range(3)] + [line(10), line(11)]
