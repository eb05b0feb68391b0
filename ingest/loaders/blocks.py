"""Offset blocks of the batch loader: which records of a topic-partition go into which files.

Roll points are deterministic where possible: a block never crosses a multiple of ``roll_records``
(block ``k`` holds offsets ``k*N .. (k+1)*N-1``), so a replay that starts on a boundary cuts the
same files. A time roll (``roll_seconds``, for slow streams) or the end of a bounded run may cut a
block short; the next block then runs to the next multiple. Recovery never depends on the cut
points: it resumes after the highest offset found in HDFS (see :mod:`hdfs_names`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ingest.loaders.hdfs_names import BlockName


@dataclass
class Block:
    """Records of one topic-partition waiting to be written, grouped by wrk_date."""

    kind: str
    partition: int
    first: int
    last: int
    opened_at: float
    parts: dict[str, list[bytes]] = field(default_factory=dict)  # newline-terminated lines, in offset order
    records: int = 0  # offsets consumed into the block (written + rejected)
    written: int = 0  # lines kept for HDFS

    @property
    def name(self) -> BlockName:
        return BlockName(self.kind, self.partition, self.first, self.last)

    def payloads(self) -> dict[str, bytes]:
        """wrk_date -> the file's bytes (one line per record, newline-terminated)."""
        return {date: b"".join(parts) for date, parts in self.parts.items() if parts}


def block_end(offset: int, roll_records: int) -> int:
    """The last offset of the deterministic block that contains ``offset``."""
    return (offset // roll_records + 1) * roll_records - 1


@dataclass
class BlockBuffer:
    """Per topic-partition: the open block, and when it must be closed."""

    kind: str
    partition: int
    roll_records: int
    block: Block | None = None

    def _open(self, offset: int, now: float) -> tuple[Block, Block | None]:
        done = None
        if self.block is not None and offset > block_end(self.block.first, self.roll_records):
            done, self.block = self.block, None
        if self.block is None:
            self.block = Block(self.kind, self.partition, offset, offset, now)
        return self.block, done

    def add(self, offset: int, wrk_date: str | None, line: str | None, now: float) -> Block | None:
        """Add one consumed record (``line`` None for a rejected one).

        Returns the previous block if this offset starts a new one (the caller writes it first).
        """
        block, done = self._open(offset, now)
        block.last = offset
        block.records += 1
        if line is not None and wrk_date is not None:
            block.parts.setdefault(wrk_date, []).append(line.encode("utf-8") + b"\n")
            block.written += 1
        return done

    def add_many(self, first: int, last: int, count: int, wrk_date: str, payload: bytes,
                 now: float) -> Block | None:
        """Add ``count`` valid records at offsets ``first..last`` (all in one deterministic block)
        whose lines are ``payload``; returns the previous block as :meth:`add` does."""
        if first // self.roll_records != last // self.roll_records:
            raise ValueError(f"offsets {first}..{last} cross a block boundary")
        block, done = self._open(first, now)
        block.last = last
        block.records += count
        block.parts.setdefault(wrk_date, []).append(payload)
        block.written += count
        return done

    def full(self) -> bool:
        """The open block reached its deterministic end offset."""
        return self.block is not None and self.block.last >= block_end(self.block.first, self.roll_records)

    def due(self, now: float, roll_seconds: float) -> bool:
        return self.block is not None and now - self.block.opened_at >= roll_seconds

    def take(self) -> Block | None:
        block, self.block = self.block, None
        return block
