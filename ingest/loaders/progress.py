"""Counters that must add up, periodic throughput/lag log lines, and latency percentiles."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class TopicCounts:
    """consumed = written + rejected (``duplicates`` and ``late`` are informational subsets)."""

    consumed: int = 0
    written: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def reconciles(self) -> bool:
        return self.consumed == self.written + self.rejected

    def as_dict(self) -> dict[str, object]:
        return {"consumed": self.consumed, "written": self.written, "rejected": self.rejected,
                "reasons": dict(self.reasons)}


class Ticker:
    """Log a progress line every ``every`` seconds: events/s since the last line, and lag."""

    def __init__(self, name: str, every: float = 10.0,
                 say: Callable[[str], None] = log.info) -> None:
        self.name = name
        self.every = every
        self.say = say
        self.started = self.last = time.monotonic()
        self.last_count = 0

    def maybe(self, count: int, describe: Callable[[], str]) -> None:
        now = time.monotonic()
        if now - self.last < self.every:
            return
        rate = (count - self.last_count) / (now - self.last)
        self.say(f"{self.name}: {rate:,.0f} events/s, {count:,} total; {describe()}")
        self.last, self.last_count = now, count

    def overall_rate(self, count: int) -> float:
        return count / max(time.monotonic() - self.started, 1e-9)


class Latencies:
    """Reservoir of latency samples (seconds) with percentiles; keeps at most ``cap`` samples."""

    def __init__(self, cap: int = 200_000) -> None:
        self.cap = cap
        self.samples: list[float] = []
        self.seen = 0

    def add(self, value: float) -> None:
        self.seen += 1
        if len(self.samples) < self.cap:
            self.samples.append(value)
        else:  # deterministic thinning: keep every k-th once full
            slot = self.seen % self.cap
            if self.seen % 7 == 0:
                self.samples[slot] = value

    def percentile(self, q: float) -> float | None:
        if not self.samples:
            return None
        ordered = sorted(self.samples)
        index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
        return ordered[index]

    def summary(self) -> dict[str, float | int | None]:
        return {"n": self.seen, "p50": self.percentile(50), "p99": self.percentile(99),
                "max": max(self.samples) if self.samples else None}
