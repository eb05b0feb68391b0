"""Progress lines for long runs, at most every few seconds."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger("ingest.collectors")


class Ticker:
    """Calls ``emit`` with elapsed seconds when at least ``every`` seconds passed since the last call."""

    def __init__(self, every: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self.clock = clock
        self.started = clock()
        self._last = self.started

    def due(self) -> float | None:
        now = self.clock()
        if self.every > 0 and now - self._last >= self.every:
            self._last = now
            return now - self.started
        return None

    @property
    def elapsed(self) -> float:
        return self.clock() - self.started
