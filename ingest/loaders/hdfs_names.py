"""Names of the batch loader's HDFS files, and recovering Kafka offsets from them (pure functions).

A final file is named after what it holds: ``<kind>-p<partition>-<first>-<last>.txt`` where
``first``/``last`` are the Kafka offsets (12 digits) of the block of the topic-partition it came
from, e.g. ``status-p2-000000001000-000000001999.txt``. A block whose records fall on several
``wrk_date`` partitions gives one file of the same name in each ``wrk_date=`` folder.

While a block is being written its files carry a leading underscore (``_status-p2-...txt``), which
Hive and Hadoop input formats ignore. The commit protocol of a block:

1. write every file of the block under its temporary name (all complete and closed);
2. rename each to its final name;
3. commit the Kafka offset ``last + 1``.

Recovery of a topic-partition (on assignment, as Kafka Connect's HDFS connector does): the highest
``last`` among its final files is the last offset already in HDFS; consumption resumes after it.
A temporary file whose block also has a final file somewhere was caught between steps 2 and its
own rename: step 1 had completed, so it is renamed now (roll forward). Any other temporary file
is from an unfinished step 1 and is deleted; its records are read again from Kafka.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

OFFSET_DIGITS = 12
TEMP_PREFIX = "_"
WRK_DATE_PREFIX = "wrk_date="
_NAME_RE = re.compile(
    r"(?P<temp>_?)(?P<kind>[a-z]+)-p(?P<partition>\d+)-(?P<first>\d{12})-(?P<last>\d{12})\.txt")


@dataclass(frozen=True, order=True)
class BlockName:
    kind: str  # "status" or "drive"
    partition: int
    first: int
    last: int

    @property
    def final(self) -> str:
        width = OFFSET_DIGITS
        return f"{self.kind}-p{self.partition}-{self.first:0{width}d}-{self.last:0{width}d}.txt"

    @property
    def temp(self) -> str:
        return TEMP_PREFIX + self.final


def parse_name(name: str) -> tuple[BlockName, bool] | None:
    """``(block, is_temporary)`` for one of our file names, None for anything else."""
    match = _NAME_RE.fullmatch(name)
    if match is None:
        return None
    block = BlockName(match["kind"], int(match["partition"]), int(match["first"]), int(match["last"]))
    return block, bool(match["temp"])


def partition_dir(base: str, wrk_date: str) -> str:
    return f"{base.rstrip('/')}/{WRK_DATE_PREFIX}{wrk_date}"


@dataclass
class Recovery:
    """What a listing says about one topic-partition."""

    last_offset: int | None = None  # highest offset covered by a final file
    roll_forward: list[tuple[str, str]] = field(default_factory=list)  # (temp path, final path)
    delete: list[str] = field(default_factory=list)  # abandoned temporary files

    @property
    def next_offset(self) -> int | None:
        return None if self.last_offset is None else self.last_offset + 1


def recover(listing: Iterable[tuple[str, str]], kind: str, partition: int) -> Recovery:
    """Decide recovery of ``kind``/``partition`` from ``(folder, file name)`` pairs of all wrk_dates."""
    finals: set[BlockName] = set()
    temps: list[tuple[str, BlockName]] = []
    for folder, name in listing:
        parsed = parse_name(name)
        if parsed is None:
            continue
        block, temporary = parsed
        if block.kind != kind or block.partition != partition:
            continue
        if temporary:
            temps.append((folder, block))
        else:
            finals.add(block)
    result = Recovery(last_offset=max((b.last for b in finals), default=None))
    for folder, block in sorted(temps):
        if block in finals:
            result.roll_forward.append((f"{folder}/{block.temp}", f"{folder}/{block.final}"))
            result.last_offset = max(result.last_offset or block.last, block.last)
        else:
            result.delete.append(f"{folder}/{block.temp}")
    return result


def covers(recovered_next: int | None, offset: int) -> bool:
    """True when ``offset`` is already in HDFS according to the recovered next offset."""
    return recovered_next is not None and offset < recovered_next
