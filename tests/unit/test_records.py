"""Line parsers: valid records round-trip, every kind of damage is rejected with its reason."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.records import (
    DRIVE_FIELDS,
    REASONS,
    STATUS_FIELDS,
    STATUS_FIELDS_COLLECTED,
    Rejected,
    drive_event_id,
    format_line,
    parse_collected_status_line,
    parse_drive_line,
    parse_status_line,
    read_known_cars,
    status_event_id,
)

timestamps = st.datetimes(
    min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2099, 12, 31, 23, 59, 59),
).map(lambda moment: moment.strftime("%Y%m%d%H%M%S"))
cars = st.builds(
    lambda letter, number: f"{letter}{number:04d}",
    st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    st.integers(1, 100),
)
percent = st.integers(0, 100).map(str)
status_records = st.tuples(
    timestamps, cars, percent, percent, percent, percent,
    *[st.sampled_from("12")] * 4, st.sampled_from("ABC"), st.sampled_from("ABC"), percent,
)
pedals = st.one_of(
    st.tuples(st.just("0"), st.integers(0, 3).map(str)),
    st.tuples(st.integers(1, 5).map(str), st.just("0")),
)
drive_records = st.builds(
    lambda ts, car, pedal, steer, signal, speed, area: (ts, car, *pedal, steer, signal, speed, area),
    timestamps, cars, pedals,
    st.sampled_from(["F", "L1", "L2", "L3", "R1", "R2", "R3"]),
    st.sampled_from("NLR"),
    st.integers(0, 250).map(str),
    st.builds(lambda letter, n: f"{letter}{n:02d}", st.sampled_from("ABCDEF"), st.integers(1, 10)),
)
wrk_dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2099, 12, 31)).map(
    lambda day: day.strftime("%Y%m%d")
)

TIRE_AND_BATTERY = (2, 3, 4, 5, 12)
DRIVE_NUMBERS = {2: 5, 3: 3, 6: 250}


def reason(parse, line, **kwargs) -> str:
    with pytest.raises(Rejected) as caught:
        parse(line, **kwargs)
    assert caught.value.reason in REASONS
    return caught.value.reason


def replaced(fields: tuple[str, ...], index: int, value: str) -> str:
    return format_line((*fields[:index], value, *fields[index + 1:]))


def test_field_lists() -> None:
    assert len(STATUS_FIELDS) == 13 and STATUS_FIELDS[11] == "break"
    assert (*STATUS_FIELDS, "wrk_date") == STATUS_FIELDS_COLLECTED
    assert len(DRIVE_FIELDS) == 8


@given(status_records)
def test_status_round_trip(fields: tuple[str, ...]) -> None:
    line = format_line(fields)
    assert parse_status_line(line) == fields
    assert parse_status_line((line + "\r\n").encode()) == fields
    assert parse_status_line(line, known_cars=frozenset({fields[1]})) == fields


@given(status_records, wrk_dates)
def test_collected_round_trip(fields: tuple[str, ...], wrk_date: str) -> None:
    collected = (*fields, wrk_date)
    assert parse_collected_status_line(format_line(collected).encode() + b"\n") == collected
    assert status_event_id(collected) == status_event_id(fields) == f"{fields[1]}-{fields[0]}"


@given(drive_records)
def test_drive_round_trip(fields: tuple[str, ...]) -> None:
    assert parse_drive_line(format_line(fields) + "\n") == fields
    assert drive_event_id(fields) == f"{fields[1]}-{fields[0]}"


@given(status_records)
def test_status_is_normalised(fields: tuple[str, ...]) -> None:
    padded = [f" {value} " for value in fields]
    padded[2] = "00" + fields[2]
    assert parse_status_line("\ufeff" + ",".join(padded) + "  \n") == fields


@given(status_records, st.data())
def test_status_wrong_field_count(fields: tuple[str, ...], data: st.DataObject) -> None:
    if data.draw(st.booleans()):
        line = format_line(fields) + "," + data.draw(st.text(alphabet="0123456789ABC", max_size=4))
    else:
        line = format_line(fields[: data.draw(st.integers(1, 12))])
    assert reason(parse_status_line, line) == "field_count"


@given(status_records, st.sampled_from(TIRE_AND_BATTERY), st.integers(101, 10**9))
def test_status_out_of_range(fields: tuple[str, ...], index: int, value: int) -> None:
    assert reason(parse_status_line, replaced(fields, index, str(value))) == "out_of_range"


@given(
    status_records, st.sampled_from(TIRE_AND_BATTERY),
    st.sampled_from(["", "-1", "+5", "8x", "1.5", "x", "0x10", "٣"]),
)
def test_status_bad_number(fields: tuple[str, ...], index: int, value: str) -> None:
    assert reason(parse_status_line, replaced(fields, index, value)) == "bad_number"


@given(
    status_records,
    st.sampled_from([
        (1, "A0000"), (1, "A0101"), (1, "a0001"), (1, "AA001"), (1, "A001"), (6, "0"), (7, "3"),
        (9, "x"), (10, "D"), (11, "c"), (11, ""),
    ]),
)
def test_status_bad_domain(fields: tuple[str, ...], change: tuple[int, str]) -> None:
    assert reason(parse_status_line, replaced(fields, *change)) == "bad_domain"


@given(
    status_records,
    st.sampled_from([
        "20200322240000", "20200322236000", "20200322235960", "20200230120000", "20190229000000",
        "00000101000000", "2020032200000", "202003220000001", "2020-03-22 000",
    ]),
)
def test_status_bad_timestamp(fields: tuple[str, ...], stamp: str) -> None:
    assert reason(parse_status_line, replaced(fields, 0, stamp)) == "bad_timestamp"


@given(status_records)
def test_status_unknown_car(fields: tuple[str, ...]) -> None:
    assert reason(parse_status_line, format_line(fields), known_cars=frozenset({"Z9999"})) == "unknown_car"


@given(status_records, st.data())
def test_undecodable_bytes(fields: tuple[str, ...], data: st.DataObject) -> None:
    raw = format_line(fields).encode()
    cut = data.draw(st.integers(0, len(raw)))
    bad = data.draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80"]))
    damaged = raw[:cut] + bad + raw[cut:]
    assert reason(parse_status_line, damaged) == "undecodable"
    assert reason(parse_drive_line, damaged) == "undecodable"


@given(st.text(min_size=1).filter(lambda text: text.strip().lstrip("\ufeff").strip()[:1] not in "0123456789"))
def test_headers_and_blanks(text: str) -> None:
    stripped = text.strip().lstrip("\ufeff").strip()
    expected = "empty" if not stripped else "header"
    assert reason(parse_status_line, text) == expected
    assert reason(parse_drive_line, text) == expected


def test_header_line_of_a_file() -> None:
    assert reason(parse_status_line, ",".join(STATUS_FIELDS)) == "header"
    assert reason(parse_drive_line, b"r_date,car_number,speed_pedal\n") == "header"


@given(st.binary(max_size=80))
def test_garbage_bytes_never_crash(raw: bytes) -> None:
    for parse in (parse_status_line, parse_collected_status_line, parse_drive_line):
        try:
            fields = parse(raw)
        except Rejected as rejected:
            assert rejected.reason in REASONS
        else:
            assert parse(format_line(fields)) == fields


@given(status_records, st.sampled_from(["20200230", "2020032", "x0200322", "20201301", ""]))
def test_collected_bad_wrk_date(fields: tuple[str, ...], wrk_date: str) -> None:
    assert reason(parse_collected_status_line, format_line((*fields, wrk_date))) == "bad_wrk_date"


@given(status_records)
def test_collected_needs_fourteen_fields(fields: tuple[str, ...]) -> None:
    assert reason(parse_collected_status_line, format_line(fields)) == "field_count"


@given(drive_records, st.sampled_from(sorted(DRIVE_NUMBERS)), st.data())
def test_drive_out_of_range(fields: tuple[str, ...], index: int, data: st.DataObject) -> None:
    value = data.draw(st.integers(DRIVE_NUMBERS[index] + 1, 10**6))
    assert reason(parse_drive_line, replaced(fields, index, str(value))) == "out_of_range"


@given(
    drive_records,
    st.sampled_from([(4, "L4"), (4, "f"), (4, "FF"), (5, "X"), (5, "n"), (7, "G01"), (7, "A11"), (7, "A00"),
                     (1, "B0200")]),
)
def test_drive_bad_domain(fields: tuple[str, ...], change: tuple[int, str]) -> None:
    assert reason(parse_drive_line, replaced(fields, *change)) == "bad_domain"


@given(drive_records, st.integers(1, 5), st.integers(1, 3))
def test_drive_brake_with_accelerator(fields: tuple[str, ...], accel: int, brake: int) -> None:
    line = format_line((*fields[:2], str(accel), str(brake), *fields[4:]))
    assert reason(parse_drive_line, line) == "inconsistent"


@given(drive_records, st.sampled_from([2, 3, 6]), st.sampled_from(["", "-1", "1e3", "two"]))
def test_drive_bad_number(fields: tuple[str, ...], index: int, value: str) -> None:
    assert reason(parse_drive_line, replaced(fields, index, value)) == "bad_number"


def test_drive_fields_count_and_unknown_car() -> None:
    fields = ("20200322000002", "A0001", "0", "0", "F", "N", "0", "A01")
    assert reason(parse_drive_line, format_line(fields[:7])) == "field_count"
    assert reason(parse_drive_line, format_line(fields), known_cars=frozenset({"B0001"})) == "unknown_car"
    assert parse_drive_line(format_line(fields), known_cars=frozenset({"A0001"})) == fields


def test_rejected_message_names_reason_and_field() -> None:
    with pytest.raises(Rejected) as caught:
        parse_status_line("20200322000000,A0001,101,90,90,90,1,1,1,1,A,A,90")
    assert caught.value.field == "tire_fl"
    assert str(caught.value).startswith("out_of_range: ")


def test_read_known_cars(tmp_path) -> None:
    master = tmp_path / "CarMaster.txt"
    master.write_text("A0001|남|30|기혼|서울|회사원|2000|2010|A\nB0002|여|17|미혼|부산|학생|1000|2001|B\n\n",
                      encoding="utf-8")
    assert read_known_cars(master) == frozenset({"A0001", "B0002"})
