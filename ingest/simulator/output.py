"""Writing generated text to a file atomically (``<name>.part`` renamed on success)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.simulator.blocks import Block
from ingest.simulator.progress import Progress


@dataclass(frozen=True)
class WriteResult:
    path: str
    rows: int
    bytes: int
    seconds: float

    def describe(self) -> str:
        rate = self.rows / self.seconds if self.seconds > 0 else float("inf")
        return (
            f"{self.path}: {self.rows:,} rows, {self.bytes / 1e6:.1f} MB, {self.seconds:.2f} s "
            f"({rate:,.0f} rows/s)"
        )


def write_chunks(
    path: str | Path, chunks: Iterable[tuple[bytes, int]], progress: Progress | None = None,
) -> WriteResult:
    """Write (text, rows) chunks to ``path`` via a temporary ``.part`` file."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    started = time.perf_counter()
    rows = size = 0
    try:
        with partial.open("wb") as handle:
            for text, count in chunks:
                handle.write(text)
                rows += count
                size += len(text)
                if progress is not None:
                    progress.advance(count)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
        if progress is not None:
            progress.close()
    return WriteResult(str(target), rows, size, time.perf_counter() - started)


def write_blocks(
    path: str | Path, blocks: Iterable[Block], encode: Callable[[Block], bytes],
    progress: Progress | None = None, keep: list[Block] | None = None,
) -> WriteResult:
    """Write the ``encode``-d blocks to ``path`` (see :func:`write_chunks`); each block is also
    appended to ``keep`` when given (the ground truth is computed from them)."""

    def chunks() -> Iterator[tuple[bytes, int]]:
        for block in blocks:
            if keep is not None:
                keep.append(block)
            yield encode(block), block.rows

    return write_chunks(path, chunks(), progress)
