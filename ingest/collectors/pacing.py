"""Pacing the live producer: a token bucket for events/s, a simulated clock for a speed-up."""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], float]


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved up; one token per event.

    :meth:`reserve` takes ``n`` tokens (the balance may go negative) and returns how long to wait
    before those ``n`` events may go, so that on average no more than ``rate`` events/s are sent.
    """

    def __init__(self, rate: float, burst: float | None = None, clock: Clock = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.rate = float(rate)
        self.burst = float(burst) if burst is not None else max(1.0, self.rate * 0.05)
        self.clock = clock
        self.tokens = self.burst
        self.stamp = clock()

    def reserve(self, n: int) -> float:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        self.tokens -= n
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


class SimulatedClock:
    """Replays simulated time ``speedup`` times faster than real time.

    The first event seen starts the clock; an event at simulated second ``s`` is due
    ``(s - s0) / speedup`` wall-clock seconds later.
    """

    def __init__(self, speedup: float, clock: Clock = time.monotonic) -> None:
        if speedup <= 0:
            raise ValueError(f"speedup must be positive, got {speedup}")
        self.speedup = float(speedup)
        self.clock = clock
        self.start: float | None = None
        self.sim_start = 0.0

    def wait_for(self, sim_seconds: float) -> float:
        now = self.clock()
        if self.start is None:
            self.start, self.sim_start = now, sim_seconds
        due = self.start + (sim_seconds - self.sim_start) / self.speedup
        return max(0.0, due - now)


def slice_size(events_per_second: float | None, tick: float = 0.02) -> int | None:
    """How many events to hand over at once when paced (about ``tick`` seconds' worth)."""
    if not events_per_second:
        return None
    return max(1, int(events_per_second * tick))
