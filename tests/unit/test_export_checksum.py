"""Row checksums: PostgreSQL's hashtextextended() reimplemented with numpy, and the MD5 fallback."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from export.checksum import sum_lines, sum_rows

# SELECT hashtextextended(s, 0) on PostgreSQL 15, x86-64
KNOWN = {
    "": -6939563903564495251,
    "a": 3591986179850072241,
    "abc": -6747756470228489321,
    "0123456789a": -2337649911100070775,
    "0123456789ab": -300982144080685429,
    "0123456789abc": 4688655838450958077,
    "A0001\t서울\t\\N\t3.250000": -3631199037901544376,
    "x" * 100: -6927006773748011226,
}


@pytest.mark.parametrize(("text", "expected"), list(KNOWN.items()))
def test_hashtext_matches_postgresql(text: str, expected: int) -> None:
    assert sum_rows([text.encode()], "hashtext") == expected
    assert sum_lines(text.encode() + b"\n", "hashtext") == expected


def test_sums_are_exact_and_order_free() -> None:
    rows = [t.encode() for t in KNOWN]
    assert sum_rows(rows, "hashtext") == sum(KNOWN.values())
    assert sum_rows(rows[::-1], "hashtext") == sum(KNOWN.values())
    assert sum_lines(b"".join(r + b"\n" for r in rows), "hashtext") == sum(KNOWN.values())
    assert sum_rows([], "hashtext") == 0 and sum_lines(b"", "md5") == 0


def md5_reference(rows: list[bytes]) -> int:
    return sum(int.from_bytes(hashlib.md5(r).digest()[:8], "big", signed=True) for r in rows)


@given(st.lists(st.binary(max_size=60).map(lambda b: b.replace(b"\n", b"")), max_size=40))
def test_lines_and_rows_agree(rows: list[bytes]) -> None:
    chunk = b"".join(r + b"\n" for r in rows)
    for kind in ("hashtext", "md5"):
        assert sum_lines(chunk, kind) == sum_rows(rows, kind)
    assert sum_rows(rows, "md5") == md5_reference(rows)


def test_rows_may_hold_newlines() -> None:
    assert sum_rows([b"a\nb"], "hashtext") != sum_rows([b"a", b"b"], "hashtext")
    assert sum_rows([b"a\nb"], "md5") == md5_reference([b"a\nb"])
