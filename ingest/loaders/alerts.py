"""Reading the overspeed alerts the real-time loader wrote to Redis (see :mod:`.redis_sink`).

A day's alerts are the set ``<yyyyMMdd>``; each member, ``<car_number>-<window start
yyyyMMddHHmmss>`` (:attr:`ingest.loaders.windows.Closed.member`), is one window of the settings'
``overspeed_window_seconds`` whose mean speed was above ``overspeed_speed_kmh``.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from ingest.loaders.redis_sink import alerts_key

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
