"""Overspeed windows of the real-time loader (pure logic, no I/O).

Per car, event-time tumbling windows of ``window_seconds`` aligned to the start of the event's
day (a window never spans midnight; with a length that does not divide 86,400 the day's last
window is shorter). A window alerts when the mean speed of its distinct events is strictly above
the threshold. Events with a timestamp already seen in the window (a collector replay) are
counted once.

Closing. A car's events arrive in order (key = car, so one partition), so a window closes when an
event of a later window arrives for that car. Cars that stop sending are closed by the partition's
watermark (the newest event time seen in the partition) once their window ended ``grace_seconds``
before it, by :meth:`close_partition` when a partition stays idle, and by :meth:`close_all` at
the end of a bounded run.

Crash safety. The state lives in memory. Per partition the loader commits only the offset of the
first event of the oldest still-open window (:meth:`commit_offsets`), so after a crash every
open window is rebuilt from Kafka. Replaying from there also re-reads the tail of windows that
were already closed (of other cars, whose windows started a few offsets earlier): rebuilding
those would give a partial window and possibly a wrong alert. So the loader persists, with the
alerts and in the same Redis transaction, the start of each car's last closed window
(``closed_through``) and loads it on start: an event of a window at or before it is "late" and
not windowed again. Together: every window is evaluated exactly once, on all its events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

DAY = 86_400


@lru_cache(maxsize=4096)
def _day_number(date: str) -> int:
    return dt.date(int(date[:4]), int(date[4:6]), int(date[6:8])).toordinal()


def event_seconds(ts: str) -> int:
    """``yyyyMMddHHmmss`` -> seconds on a linear scale (days since year 1 x 86,400 + second of day)."""
    return _day_number(ts[:8]) * DAY + int(ts[8:10]) * 3600 + int(ts[10:12]) * 60 + int(ts[12:14])


@lru_cache(maxsize=65536)
def label(seconds: int) -> str:
    """Inverse of :func:`event_seconds`: ``yyyyMMddHHmmss``."""
    day, second = divmod(seconds, DAY)
    date = dt.date.fromordinal(day)
    return f"{date:%Y%m%d}{second // 3600:02d}{second // 60 % 60:02d}{second % 60:02d}"


def window_start(seconds: int, length: int) -> int:
    second_of_day = seconds % DAY
    return seconds - second_of_day + second_of_day // length * length


def window_end(start: int, length: int) -> int:
    return min(start + length, start - start % DAY + DAY)


class Window:
    __slots__ = ("car", "count", "end", "first_offset", "partition", "seen", "start", "total")

    def __init__(self, car: str, start: int, end: int, partition: int, first_offset: int) -> None:
        self.car = car
        self.start = start
        self.end = end
        self.partition = partition
        self.first_offset = first_offset
        self.seen: set[int] = set()
        self.total = 0
        self.count = 0

    def add(self, seconds: int, speed: int) -> bool:
        if seconds in self.seen:
            return False
        self.seen.add(seconds)
        self.total += speed
        self.count += 1
        return True

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0


@dataclass(frozen=True)
class Closed:
    car: str
    start: str  # yyyyMMddHHmmss of the window start
    mean: float
    events: int
    alert: bool
    closed_by_ms: int | None  # Kafka timestamp of the event that closed it (None: watermark/end)

    @property
    def day(self) -> str:
        return self.start[:8]

    @property
    def member(self) -> str:
        return f"{self.car}-{self.start}"


@dataclass
class WindowStats:
    windowed: int = 0
    duplicates: int = 0  # same car and timestamp again inside an open window
    late: int = 0  # event of a window that is already closed (replay overlap, or out of order)
    closed: int = 0
    alerts: int = 0


class OverspeedWindows:
    def __init__(self, window_seconds: int = 30, threshold: float = 80.0, grace_seconds: int = 60) -> None:
        if window_seconds < 1:
            raise ValueError("window_seconds must be at least 1")
        self.length = window_seconds
        self.threshold = threshold
        self.grace = grace_seconds
        self.open: dict[str, Window] = {}
        # (car, day number) -> start of the car's last closed window that day. Per day, so that
        # loading an earlier day after a later one (a backfill) is not taken for a replay.
        self.closed_through: dict[tuple[str, int], int] = {}
        self.watermark: dict[int, int] = {}
        self.stats = WindowStats()

    # ---- state from the store ---------------------------------------------------------------
    def load_closed_through(self, labels: Iterable[tuple[str, str]]) -> None:
        """``(car, yyyyMMddHHmmss)``: the start of a car's last closed window of a day (from Redis)."""
        for car, text in labels:
            seconds = event_seconds(text)
            key = (car, seconds // DAY)
            if seconds > self.closed_through.get(key, -1):
                self.closed_through[key] = seconds

    # ---- events -------------------------------------------------------------------------------
    def add(self, partition: int, offset: int, car: str, ts: str, speed: int,
            timestamp_ms: int | None = None) -> Closed | None:
        """Window one event; returns the car's previous window if this event closed it."""
        seconds = event_seconds(ts)
        start = window_start(seconds, self.length)
        if seconds > self.watermark.get(partition, -1):
            self.watermark[partition] = seconds
        window = self.open.get(car)
        closed = None
        if window is not None:
            if start == window.start:
                if window.add(seconds, speed):
                    self.stats.windowed += 1
                else:
                    self.stats.duplicates += 1
                return None
            if start < window.start:
                self.stats.late += 1
                return None
            closed = self._close(window, timestamp_ms)
        elif start <= self.closed_through.get((car, start // DAY), -1):
            self.stats.late += 1
            return None
        window = Window(car, start, window_end(start, self.length), partition, offset)
        window.add(seconds, speed)
        self.stats.windowed += 1
        self.open[car] = window
        return closed

    def _close(self, window: Window, timestamp_ms: int | None) -> Closed:
        del self.open[window.car]
        key = (window.car, window.start // DAY)
        if window.start > self.closed_through.get(key, -1):
            self.closed_through[key] = window.start
        alert = window.count > 0 and window.mean > self.threshold
        self.stats.closed += 1
        self.stats.alerts += alert
        return Closed(window.car, label(window.start), window.mean, window.count, alert, timestamp_ms)

    def _close_where(self, keep: Iterable[Window]) -> list[Closed]:
        return [self._close(window, None) for window in list(keep)]

    def close_expired(self) -> list[Closed]:
        """Close windows that ended ``grace`` seconds before their partition's newest event."""
        return self._close_where(
            w for w in self.open.values() if w.end + self.grace <= self.watermark.get(w.partition, -1))

    def close_partition(self, partition: int) -> list[Closed]:
        return self._close_where(w for w in self.open.values() if w.partition == partition)

    def close_all(self) -> list[Closed]:
        return self._close_where(self.open.values())

    def drop_partition(self, partition: int) -> None:
        """Forget a revoked partition's open windows (the new owner rebuilds them from Kafka)."""
        for car in [c for c, w in self.open.items() if w.partition == partition]:
            del self.open[car]
        self.watermark.pop(partition, None)

    # ---- commits ------------------------------------------------------------------------------
    def oldest_open(self) -> dict[int, int]:
        """partition -> first offset of its oldest still-open window."""
        oldest: dict[int, int] = {}
        for w in self.open.values():
            if w.first_offset < oldest.get(w.partition, w.first_offset + 1):
                oldest[w.partition] = w.first_offset
        return oldest

    def commit_offsets(self, next_offsets: dict[int, int]) -> dict[int, int]:
        """partition -> offset safe to commit, given the next offset to read of each partition."""
        oldest = self.oldest_open()
        return {p: min(nxt, oldest.get(p, nxt)) for p, nxt in next_offsets.items()}

    def open_windows(self) -> Iterator[Window]:
        return iter(self.open.values())
