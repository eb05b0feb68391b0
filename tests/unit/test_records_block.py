"""canonical_block (the loaders' bulk validation) agrees with the line-by-line parsers."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.records import Rejected, canonical_block, parse_collected_status_line, parse_drive_line
from ingest.simulator import SimulatorConfig, simulate_day

DATE = "20200322"


@pytest.fixture(scope="module")
def lines(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[bytes]]:
    out = tmp_path_factory.mktemp("sim")
    simulate_day(out, DATE, cars=8, seed=11, config=SimulatorConfig(day_seconds=900),
                 only=["status", "drive"])
    drive = Path(out / f"SmartCarDrivingInfo_{DATE}.txt").read_bytes().splitlines()
    status = [line + b"," + DATE.encode() for line in
              Path(out / f"SmartCarStatusInfo_{DATE}.txt").read_bytes().splitlines()]
    return {"drive": [x for x in drive if x], "status": [x for x in status if x]}


def test_valid_driving_block_is_the_parsed_lines(lines: dict[str, list[bytes]]) -> None:
    drive = lines["drive"]
    expected = "".join(",".join(parse_drive_line(x)) + "\n" for x in drive).encode()
    assert canonical_block(drive) == (DATE, expected)


def test_valid_status_block_goes_to_its_collection_date(lines: dict[str, list[bytes]]) -> None:
    status = [x[:-8] + b"20200323" for x in lines["status"]]  # collected the next day
    expected = "".join(",".join(parse_collected_status_line(x)) + "\n" for x in status).encode()
    assert canonical_block(status, collected_status=True) == ("20200323", expected)
    assert canonical_block(status) is None  # not driving lines


@pytest.mark.parametrize("bad", [
    b"20200322000000,A0001,1,1,F,N,10,A01",  # brake and accelerator together
    b"20200231000000,A0001,1,0,F,N,10,A01",  # no such day
    b"20200322000000,A0001,1,0,F,N,10,A01\n20200322000001,A0001,1,0,F,N,10,A01",  # two lines in one value
    b" 20200322000000,A0001,1,0,F,N,10,A01",  # valid after stripping, but not canonical
    b"20200323000000,A0001,1,0,F,N,10,A01",  # another day: another partition
    b"",
])
def test_one_odd_line_sends_the_block_line_by_line(lines: dict[str, list[bytes]], bad: bytes) -> None:
    block = [*lines["drive"][:50], bad, *lines["drive"][50:100]]
    assert canonical_block(block) is None


def test_lines_the_block_check_refuses_are_the_ones_the_parser_rejects_or_rewrites() -> None:
    with pytest.raises(Rejected):
        parse_drive_line(b"20200322000000,A0001,1,1,F,N,10,A01")
    assert ",".join(parse_drive_line(b" 20200322000000,A0001,1,0,F,N,10,A01")).encode() != \
        b" 20200322000000,A0001,1,0,F,N,10,A01"


def test_empty_block() -> None:
    assert canonical_block([]) is None


def test_status_lines_of_several_event_days_keep_their_one_collection_date(
        lines: dict[str, list[bytes]]) -> None:
    status = lines["status"]
    late = [b"20200321" + x[8:] for x in status[:20]]  # events of the day before, collected today
    block = [*late, *status]
    expected = "".join(",".join(parse_collected_status_line(x)) + "\n" for x in block).encode()
    assert canonical_block(block, collected_status=True) == (DATE, expected)


@pytest.mark.parametrize("collected", [b"20200322", b"20200323"])
def test_status_lines_of_two_collection_dates_are_split_line_by_line(
        lines: dict[str, list[bytes]], collected: bytes) -> None:
    status = lines["status"]
    other = b"20200324" if collected == b"20200323" else b"20200323"
    block = [x[:-8] + collected for x in status[:30]] + [x[:-8] + other for x in status[30:60]]
    assert canonical_block(block, collected_status=True) is None


@pytest.mark.parametrize("day", [b"20200230", b"20201301"])
def test_a_block_all_of_one_impossible_day_is_not_taken_in_bulk(day: bytes) -> None:
    drive = [day + b"0000%02d,A0001,1,0,F,N,10,A01" % i for i in range(10)]
    assert canonical_block(drive) is None
    status = [day + b"0000%02d,A0001,90,90,90,90,1,1,1,1,A,A,90,20200322" % i for i in range(10)]
    assert canonical_block(status, collected_status=True) is None
    collected_on = [b"202003220000%02d,A0001,90,90,90,90,1,1,1,1,A,A,90," % i + day for i in range(10)]
    assert canonical_block(collected_on, collected_status=True) is None
