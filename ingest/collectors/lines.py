"""Reading complete lines from a file descriptor at exact byte offsets (for checkpoints)."""

from __future__ import annotations

import os

BLOCK_SIZE = 4 << 20


class LineReader:
    """Lines of an open file from ``offset`` on; ``offset`` and ``line`` always point just past
    the last line returned, so they can be stored in a checkpoint and resumed from exactly.

    Bytes after the last newline are kept back (a writer may still be completing that line),
    unless ``final=True`` is passed, for files known to be complete.
    """

    def __init__(self, fd: int, offset: int = 0, line: int = 0, block_size: int = BLOCK_SIZE) -> None:
        self.fd = fd
        self.offset = offset  # byte offset of the next unread line
        self.line = line  # 1-based number of the last line returned (0: none yet)
        self.block_size = block_size
        self._buf = b""  # bytes from self.offset on that were read already

    def reset(self, offset: int = 0, line: int = 0) -> None:
        self.offset, self.line, self._buf = offset, line, b""

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def read_batch(self, max_lines: int, final: bool = False) -> list[bytes]:
        """Up to ``max_lines`` complete lines (without their ``\\n``), advancing the offset."""
        chunks = [self._buf]
        newlines = self._buf.count(b"\n")
        position = self.offset + len(self._buf)
        eof = False
        while newlines < max_lines:
            chunk = os.pread(self.fd, self.block_size, position)
            if not chunk:
                eof = True
                break
            chunks.append(chunk)
            newlines += chunk.count(b"\n")
            position += len(chunk)
        data = b"".join(chunks) if len(chunks) > 1 else chunks[0]
        parts = data.split(b"\n", max_lines)
        rest = parts.pop()
        if final and eof and rest and len(parts) < max_lines:
            parts.append(rest)
            rest = b""
        consumed = len(data) - len(rest)
        self.offset += consumed
        self.line += len(parts)
        self._buf = rest
        return parts


def last_line_end(fd: int, size: int, block_size: int = 64 * 1024) -> int:
    """Offset just past the last newline before ``size`` (0 if there is none)."""
    end = size
    while end > 0:
        start = max(0, end - block_size)
        block = os.pread(fd, end - start, start)
        found = block.rfind(b"\n")
        if found >= 0:
            return start + found + 1
        end = start
    return 0
