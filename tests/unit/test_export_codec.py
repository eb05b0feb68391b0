"""Mart lines -> COPY lines: pass-through, per-value conversion, bad rows, checksum."""

from __future__ import annotations

import hashlib

from export.checksum import sum_rows
from export.codec import FieldSpec, LineCodec, copy_escape, split_hive_fields
from export.types import ColumnType

COLUMNS = ["car_number", "speed", "avg", "region", "ok"]
FIELDS = [
    FieldSpec("car_number", ColumnType.parse("character varying(5)"), nullable=False),
    FieldSpec("speed", ColumnType.parse("smallint")),
    FieldSpec("avg", ColumnType.parse("numeric(12,6)")),
    FieldSpec("region", ColumnType.parse("character varying(8)")),
    FieldSpec("ok", ColumnType.parse("boolean")),
]


def codec(selection: list[int] | None = None, fields: list[FieldSpec] | None = None) -> LineCodec:
    selection = selection if selection is not None else list(range(len(COLUMNS)))
    return LineCodec(COLUMNS, fields or [FIELDS[i] for i in selection], selection, checksum="md5")


def reference_checksum(lines: list[bytes]) -> int:
    return sum(int.from_bytes(hashlib.md5(x).digest()[:8], "big", signed=True) for x in lines)


def test_canonical_chunk_passes_through_unchanged() -> None:
    chunk = "A0001\t12\t1.500000\t서울\ttrue\nB0002\t\\N\t\\N\t\\N\tfalse\n".encode()
    result = codec().process(chunk)
    assert result.data is chunk and result.rows == 2 and not result.bad
    assert result.checksum == reference_checksum(chunk.split(b"\n")[:-1])


def test_non_canonical_values_are_converted_line_by_line() -> None:
    chunk = b"A0001\t012\t1.5\tx\tTRUE\nA0002\t3\t2.000000\ty\tfalse\n"
    result = codec().process(chunk)
    assert result.data == b"A0001\t12\t1.500000\tx\ttrue\nA0002\t3\t2.000000\ty\tfalse\n"
    assert result.checksum == reference_checksum(
        [b"A0001\t12\t1.500000\tx\ttrue", b"A0002\t3\t2.000000\ty\tfalse"]
    )


def test_bad_rows_are_reported_with_offsets() -> None:
    chunk = (
        b"A0001\t1\t1.000000\tx\ttrue\nA0002\tx7\t1.000000\tx\ttrue\nA0003\t1\n\\N\t1\t1.000000\tx\ttrue\n"
    )
    result = codec().process(chunk)
    assert result.rows == 1
    reasons = [(b.offset, b.reason) for b in result.bad]
    assert reasons[0] == (24, "column speed: 'x7' is not an integer")
    assert reasons[1][1] == "2 fields, expected 5"
    assert reasons[2][1] == "column car_number: NULL in a NOT NULL column"


def test_invalid_utf8_is_a_bad_row() -> None:
    result = codec().process(b"A0001\t1\t1.000000\t\xff\ttrue\n")
    assert result.rows == 0 and result.bad[0].reason.startswith("not UTF-8")


def test_projection_selects_and_reorders_columns() -> None:
    chunk = b"A0001\t12\t1.500000\tx\ttrue\n"
    result = codec([3, 0]).process(chunk)
    assert result.data == b"x\tA0001\n" and result.checksum == reference_checksum([b"x\tA0001"])


def test_escapes_and_nulls_follow_hive_and_copy_rules() -> None:
    assert split_hive_fields("a\\\tb\tc\\\\d\t\\N\t\\\\N\tx\\ny") == ["a\tb", "c\\d", None, "\\N", "x\ny"]
    assert split_hive_fields("plain\t\\N") == ["plain", None]
    assert copy_escape("a\tb\\c\nd\re") == "a\\tb\\\\c\\nd\\re"
    assert copy_escape(None) == "\\N"
    text = "A0001\t1\t1.000000\tta\\\tb\ttrue\n"  # region holds an escaped tab
    result = codec().process(text.encode())
    assert result.data == b"A0001\t1\t1.000000\tta\\tb\ttrue\n"
    assert result.checksum == reference_checksum([b"A0001\t1\t1.000000\tta\tb\ttrue"])


def test_dates_and_floats_always_take_the_careful_path() -> None:
    fields = [FieldSpec("d", ColumnType.parse("date")), FieldSpec("f", ColumnType.parse("double precision"))]
    special = LineCodec(["d", "f"], fields, [0, 1], checksum="md5")
    result = special.process(b"20200322\t0.30000000000000004\n")
    assert result.data == b"2020-03-22\t0.30000000000000004\n"
    assert result.checksum == reference_checksum([b"2020-03-22\t0.3"])


def test_hashtext_checksum_of_passthrough_and_converted_chunks() -> None:
    fast = LineCodec(COLUMNS, FIELDS, list(range(5)))
    chunk = b"A0001\t12\t1.500000\tx\ttrue\nB0002\t\\N\t\\N\t\\N\tfalse\n"
    assert fast.process(chunk).checksum == sum_rows(chunk.split(b"\n")[:-1], "hashtext")
    slow = fast.process(b"A0001\t012\t1.5\tx\tTRUE\n")
    assert slow.checksum == sum_rows([b"A0001\t12\t1.500000\tx\ttrue"], "hashtext")
