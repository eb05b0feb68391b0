"""Reading the overspeed alerts the real-time loader wrote to Redis (see :mod:`.redis_sink`).

A day's alerts are the set ``<yyyyMMdd>``; each member, ``<car_number>-<window start
yyyyMMddHHmmss>`` (:attr:`ingest.loaders.windows.Closed.member`), is one window of the settings'
``overspeed_window_seconds`` whose mean speed was above ``overspeed_speed_kmh``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ingest.loaders.redis_sink import alerts_key
from ingest.stopping import StopFlag

if TYPE_CHECKING:
    import redis


def _text(member: bytes | str) -> str:
    return member.decode("utf-8") if isinstance(member, bytes) else member


def car_of(member: str) -> str:
    """The car number of an alert member ``<car_number>-<yyyyMMddHHmmss>``."""
    return member.rsplit("-", 1)[0]


def overspeed_alerts(client: redis.Redis, day: str) -> set[str]:
    """The day's alert members as text (with or without ``decode_responses`` on the client)."""
    return {_text(member) for member in client.smembers(alerts_key(day))}


def top_overspeed_cars(client: redis.Redis, day: str, n: int = 5) -> list[tuple[str, int]]:
    """The ``n`` cars with the most overspeed windows that day: ``(car, windows)``, most first,
    ties by car number."""
    windows = Counter(car_of(member) for member in overspeed_alerts(client, day))
    return sorted(windows.items(), key=lambda item: (-item[1], item[0]))[:max(n, 0)]


@dataclass(frozen=True, order=True)
class Alert:
    """One overspeed window: sorted by its start, then car."""

    start: str  # yyyyMMddHHmmss
    car: str

    @classmethod
    def of(cls, member: str) -> Alert:
        car, _, start = member.rpartition("-")
        return cls(start=start, car=car)

    def end(self, window_seconds: int) -> str:
        began = dt.datetime.strptime(self.start, "%Y%m%d%H%M%S")
        return (began + dt.timedelta(seconds=window_seconds)).strftime("%Y%m%d%H%M%S")


def day_alerts(client: redis.Redis, day: str) -> list[Alert]:
    """The day's alerts in window order."""
    return sorted(Alert.of(member) for member in overspeed_alerts(client, day))


def follow_alerts(client: redis.Redis, day: str, stop: StopFlag, interval: float = 1.0,
                  seen: set[str] | None = None) -> Iterator[list[Alert]]:
    """The day's alerts not yet in ``seen``, in window order, once per ``interval`` until ``stop``.

    Polls the day's set (what the classic pilot's alert app did); members are only ever added, so
    the difference to what was already shown is exactly what is new.
    """
    seen = set() if seen is None else seen
    while True:
        members = overspeed_alerts(client, day)
        new = members - seen
        seen |= new
        yield sorted(Alert.of(member) for member in new)
        if stop.wait(interval):
            return
