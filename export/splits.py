"""Parallel splits over a partition's files, like Sqoop's: byte ranges aligned to lines.

The files are laid end to end and cut into ``n`` ranges of about equal size; a range may cover
the end of one file and the start of the next. A line belongs to the range holding its first
byte: a reader starting inside a file skips to the first line that starts at or after its start,
and reads past its end to finish its last line (:func:`owned_lines`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

MIN_SPLIT_BYTES = 1 << 20


@dataclass(frozen=True)
class Segment:
    path: str
    start: int
    end: int  # exclusive
    size: int  # size of the whole file

    @property
    def length(self) -> int:
        return self.end - self.start


def plan_splits(
    files: Sequence[tuple[str, int]], splits: int, min_bytes: int = MIN_SPLIT_BYTES,
) -> list[list[Segment]]:
    """Cut ``files`` ((path, size), in order) into at most ``splits`` lists of segments."""
    if splits < 1:
        raise ValueError("splits must be at least 1")
    files = [(p, s) for p, s in files if s > 0]
    total = sum(s for _, s in files)
    if total == 0:
        return []
    count = max(1, min(splits, -(-total // max(min_bytes, 1))))
    bounds = [total * i // count for i in range(count + 1)]
    plan: list[list[Segment]] = [[] for _ in range(count)]
    position = 0
    for path, size in files:
        file_start, file_end = position, position + size
        for index in range(count):
            low, high = max(bounds[index], file_start), min(bounds[index + 1], file_end)
            if low < high:
                plan[index].append(Segment(path, low - file_start, high - file_start, size))
        position = file_end
    return [p for p in plan if p]


def owned_lines(chunks: Iterable[bytes], start: int, end: int, size: int) -> Iterator[tuple[int, bytes]]:
    """The complete lines a segment owns, as (file offset of the chunk, chunk of whole lines).

    ``chunks`` is the file's bytes from ``max(start - 1, 0)`` on (the reader may stop early);
    the segment owns the lines whose first byte lies in ``[start, end)``. A final line without
    ``\\n`` at the end of the file is completed with one.
    """
    position = max(start - 1, 0)  # file offset of the first byte in `pending`
    pending = b""
    skipping = start > 0  # drop bytes up to and including the first newline
    for chunk in chunks:
        if not chunk:
            continue
        pending += chunk
        if skipping:
            newline = pending.find(b"\n")
            if newline < 0:
                position += len(pending)
                pending = b""
                if position >= end:
                    return
                continue
            position += newline + 1
            pending = pending[newline + 1:]
            skipping = False
            if position >= end:
                return
        last = pending.rfind(b"\n")
        if last < 0:
            continue
        if position + last + 1 > end:
            # The line spanning offset `end` is complete: it ends at the first newline at or
            # after end - 1; the lines after it belong to the next segment.
            cut = pending.find(b"\n", end - position - 1) + 1
            yield position, pending[:cut]
            return
        yield position, pending[: last + 1]
        position += last + 1
        pending = pending[last + 1:]
        if position >= end:
            return
    if pending and not skipping and position < end:
        if position + len(pending) >= size:  # the file's last line has no newline
            yield position, pending + b"\n"
        else:
            raise EOFError(f"the reader stopped at byte {position + len(pending)} of {size} inside a line")

