"""When a long run should say how it is going: at most every few seconds, with its rates.

One ticker serves every stage: the collectors log lines and events per second since they started,
the loaders events per second since their previous progress line.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Tick:
    """A progress line is due."""

    elapsed: float  # seconds since the ticker started
    count: int  # what the caller has done so far (lines, events), as passed to Ticker.due
    recent: float  # count per second since the previous tick (or since the start)

    @property
    def rate(self) -> float:
        """Count per second since the start."""
        return self.count / self.elapsed if self.elapsed > 0 else 0.0


class Ticker:
    """Due when at least ``every`` seconds passed since the last tick; never when ``every`` <= 0."""

    def __init__(self, every: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self.clock = clock
        self.started = clock()
        self._last = self.started
        self._last_count = 0

    def due(self, count: int = 0) -> Tick | None:
        """A :class:`Tick` when a progress line is due (and from now on the next one), else None."""
        now = self.clock()
        interval = now - self._last
        if self.every <= 0 or interval < self.every:
            return None
        tick = Tick(now - self.started, count, (count - self._last_count) / interval)
        self._last, self._last_count = now, count
        return tick
