"""A split's lines, read from HDFS and converted: as chunks, or as a file-like object for COPY."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from export.codec import LineCodec
from export.splits import Segment, owned_lines
from pilot.errors import PilotError

READ_CHUNK = 1 << 20


class BadRows(PilotError):
    """Rows that do not convert (strict mode stops at the first)."""

    def __init__(self, rows: list[BadRow]) -> None:
        self.rows = rows
        first = rows[0]
        super().__init__(f"{first.path} line {first.line or '?'} (byte {first.offset}): {first.reason}")


@dataclass
class BadRow:
    path: str
    offset: int  # byte offset of the line in its file
    reason: str
    text: str
    line: int | None = None  # 1-based line number, filled in when reported

    def describe(self) -> str:
        where = f"line {self.line}" if self.line else f"byte {self.offset}"
        return f"{self.path} {where}: {self.reason}: {self.text[:120]!r}"


@dataclass
class StreamStats:
    rows: int = 0
    checksum: int = 0
    bytes_read: int = 0
    bad_count: int = 0
    bad: list[BadRow] = field(default_factory=list)


Opener = Callable[[str, int], Iterable[bytes]]  # (path, offset) -> chunks from offset to EOF


def webhdfs_opener(client: Any, chunk_size: int = READ_CHUNK) -> Opener:
    def open_at(path: str, offset: int) -> Iterator[bytes]:
        with client.read(path, offset=offset, chunk_size=chunk_size) as reader:
            yield from reader
    return open_at


def local_opener(chunk_size: int = READ_CHUNK) -> Opener:
    """Reads local files (``file:`` sources: tests, and exports of a local copy of a partition)."""
    def open_at(path: str, offset: int) -> Iterator[bytes]:
        with open(path, "rb") as handle:
            handle.seek(offset)
            yield from iter(lambda: handle.read(chunk_size), b"")
    return open_at


class CopySource:
    """Converted COPY text for the segments of one split: :meth:`chunks`, or ``read()``."""

    def __init__(
        self,
        segments: list[Segment],
        codec: LineCodec,
        opener: Opener,
        skip_bad_rows: bool = False,
        keep_bad: int = 10,
        on_progress: Callable[[int, int], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self.codec = codec
        self.skip_bad_rows = skip_bad_rows
        self.keep_bad = keep_bad
        self.stats = StreamStats()
        self._opener = opener
        self._on_progress = on_progress
        self._should_stop = should_stop
        self._segments = segments
        self._chunks = self._generate(segments)

    def chunks(self) -> Iterator[bytes]:
        """Converted chunks (about READ_CHUNK bytes each); raises BadRows in strict mode."""
        return self._chunks

    def _generate(self, segments: list[Segment]) -> Iterator[bytes]:
        for segment in segments:
            raw = self._opener(segment.path, max(segment.start - 1, 0))
            counted = self._count(raw)
            try:
                for offset, lines in owned_lines(counted, segment.start, segment.end, segment.size):
                    result = self.codec.process(lines)
                    if result.bad:
                        self._bad(segment.path, offset, result.bad)
                    self.stats.rows += result.rows
                    self.stats.checksum += result.checksum
                    if result.data:
                        yield result.data
            finally:
                close = getattr(raw, "close", None)
                if close:
                    close()

    def _count(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            if self._should_stop and self._should_stop():
                raise PilotError("stopped: another split failed")
            self.stats.bytes_read += len(chunk)
            if self._on_progress:
                self._on_progress(len(chunk), self.stats.rows)
            yield chunk

    def _bad(self, path: str, chunk_offset: int, lines: list[Any]) -> None:
        rows = [BadRow(path, chunk_offset + b.offset, b.reason, b.text) for b in lines]
        if not self.skip_bad_rows:
            raise BadRows(rows)
        self.stats.bad_count += len(rows)
        room = self.keep_bad - len(self.stats.bad)
        if room > 0:
            self.stats.bad.extend(rows[:room])

    def read(self, size: int = -1) -> bytes:
        del size  # psycopg2 accepts larger pieces; converted chunks are about READ_CHUNK bytes
        return next(self._chunks, b"")

    def readline(self, size: int = -1) -> bytes:  # pragma: no cover - copy_expert only uses read()
        return self.read(size)
