"""A tiny progress bar on stderr."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(
        self, total: int, label: str, enabled: bool = True, unit: str = "lines",
        stream: TextIO | None = None,
    ) -> None:
        self.total = max(total, 1)
        self.label = label
        self.enabled = enabled
        self.unit = unit
        self.stream = stream or sys.stderr
        self.done = 0
        self.started = time.perf_counter()
        self._drawn = 0.0
        self._shown = -1

    def advance(self, count: int) -> None:
        self.done += count
        now = time.perf_counter()
        if self.enabled and (now - self._drawn >= 0.1 or self.done >= self.total):
            self._drawn = now
            self._draw(now)

    def close(self) -> None:
        if self.enabled:
            if self._shown != self.done:
                self._draw(time.perf_counter())
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self, now: float) -> None:
        self._shown = self.done
        fraction = min(self.done / self.total, 1.0)
        bar = "#" * int(fraction * 30)
        self.stream.write(
            f"\r{self.label:<28} [{bar:<30}] {fraction:4.0%} {self.done:,}/{self.total:,} {self.unit} "
            f"{now - self.started:5.1f}s"
        )
        self.stream.flush()
