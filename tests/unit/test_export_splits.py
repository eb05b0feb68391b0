"""Split planning and line ownership: every line read exactly once, whatever the cuts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from export.splits import Segment, owned_lines, plan_splits
from export.stream import CopySource


def test_plan_covers_every_byte_once() -> None:
    files = [("a", 100), ("b", 0), ("c", 50)]
    plan = plan_splits(files, 3, min_bytes=1)
    assert len(plan) == 3
    covered = sorted((s.path, s.start, s.end) for split in plan for s in split)
    assert covered == [("a", 0, 50), ("a", 50, 100), ("c", 0, 50)]
    assert plan_splits([], 4) == [] and plan_splits([("x", 0)], 4) == []


def test_small_inputs_get_fewer_splits() -> None:
    assert len(plan_splits([("a", 3 << 20)], 8)) == 3
    with pytest.raises(ValueError):
        plan_splits([("a", 1)], 0)


def read_all(data: bytes, segment: Segment, chunk: int) -> list[bytes]:
    start = max(segment.start - 1, 0)
    chunks = [data[i : i + chunk] for i in range(start, len(data), chunk)]
    out = b"".join(c for _, c in owned_lines(iter(chunks), segment.start, segment.end, segment.size))
    return out.split(b"\n")[:-1] if out else []


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(
        st.binary(min_size=0, max_size=30).map(lambda b: b.replace(b"\n", b"")), min_size=0, max_size=40
    ),
    trailing_newline=st.booleans(),
    splits=st.integers(min_value=1, max_value=9),
    chunk=st.integers(min_value=1, max_value=64),
)
def test_each_line_is_owned_by_exactly_one_segment(
    lines: list[bytes], trailing_newline: bool, splits: int, chunk: int
) -> None:
    data = b"\n".join(lines) + (b"\n" if trailing_newline and lines else b"")
    expected = data.split(b"\n")
    if expected and expected[-1] == b"" and data.endswith(b"\n"):
        expected.pop()
    if data == b"":
        expected = []
    got: list[bytes] = []
    for split in plan_splits([("f", len(data))], splits, min_bytes=1):
        for segment in split:
            got.extend(read_all(data, segment, chunk))
    assert got == expected


def test_offsets_point_at_line_starts() -> None:
    data = b"aa\nbbb\ncccc\nd\n"
    pieces = list(owned_lines(iter([data[4:]]), 5, 9, len(data)))  # starts inside "bbb"
    assert pieces == [(7, b"cccc\n")]


def test_copy_source_streams_converted_chunks() -> None:
    from export.codec import FieldSpec, LineCodec
    from export.types import ColumnType

    data = b"1\n2\n3\n"
    codec = LineCodec(["n"], [FieldSpec("n", ColumnType.parse("integer"))], [0])
    opened: list[tuple[str, int]] = []

    def opener(path: str, offset: int) -> list[bytes]:
        opened.append((path, offset))
        return [data[offset:]]

    segments = [Segment("f", 0, 3, len(data)), Segment("f", 3, 6, len(data))]
    source = CopySource(segments, codec, opener)
    out = b""
    while piece := source.read(8192):
        out += piece
    assert out == data and source.stats.rows == 3 and opened == [("f", 0), ("f", 2)]
