"""Split workers in real processes, on local files: chunks arrive, rows and checksums add up,
and a bad row in strict mode stops the feed (no services needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from export.checksum import sum_lines
from export.codec import FieldSpec
from export.feed import SplitFailed, SplitFeed
from export.splits import plan_splits
from export.types import ColumnType
from export.worker import SplitTask

FIELDS = [
    FieldSpec("car_number", ColumnType.parse("character varying(5)"), False),
    FieldSpec("speed", ColumnType.parse("smallint")),
]


def tasks(files: list[Path], splits: int, skip: bool = False) -> list[SplitTask]:
    plan = plan_splits([(str(f), f.stat().st_size) for f in files], splits, min_bytes=1)
    return [
        SplitTask(i, segments, ["car_number", "speed"], FIELDS, [0, 1], "file:", "", skip)
        for i, segments in enumerate(plan)
    ]


def drain(feed: SplitFeed) -> bytes:
    out = b""
    try:
        while piece := feed.read():
            out += piece
    finally:
        feed.close()
    return out


def write(folder: Path, name: str, lines: list[str]) -> Path:
    path = folder / name
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def test_every_row_arrives_once(tmp_path: Path) -> None:
    rows = [f"A{i:04d}\t{i % 250}" for i in range(1, 4000)]
    files = [write(tmp_path, "part-0", rows[:2500]), write(tmp_path, "part-1", rows[2500:])]
    feed = SplitFeed(tasks(files, 3), sum(f.stat().st_size for f in files), lambda _: None)
    data = drain(feed)
    assert sorted(data.decode().splitlines()) == sorted(rows)
    outcomes = feed.outcomes.values()
    assert sum(o.rows for o in outcomes) == len(rows)
    assert sum(o.checksum for o in outcomes) == sum_lines(data, "hashtext")


def test_a_bad_row_stops_the_feed(tmp_path: Path) -> None:
    rows = [f"A{i:04d}\t{i % 250}" for i in range(1, 3000)]
    rows[1500] = "A1501\tfast"
    files = [write(tmp_path, "part-0", rows)]
    feed = SplitFeed(tasks(files, 2), files[0].stat().st_size, lambda _: None)
    with pytest.raises(SplitFailed):
        drain(feed)
    assert feed.failure is not None and feed.failure.bad[0].reason == "column speed: 'fast' is not an integer"
    assert feed.failure.bad[0].path == str(files[0])


def test_skipping_reports_bad_rows_and_keeps_the_rest(tmp_path: Path) -> None:
    rows = [f"A{i:04d}\t{i % 250}" for i in range(1, 100)] + ["B0001\t1\textra", "B0002\t99999"]
    files = [write(tmp_path, "part-0", rows)]
    feed = SplitFeed(tasks(files, 1, skip=True), files[0].stat().st_size, lambda _: None)
    assert len(drain(feed).splitlines()) == 99
    outcome = feed.outcomes[0]
    assert outcome.bad_count == 2 and "out of range" in outcome.bad[1].reason
