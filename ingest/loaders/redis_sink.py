"""Redis side of the real-time loader (writing): overspeed alerts, latest state per car, window progress.

Keys:

* ``<yyyyMMdd>`` (a set per event day): members ``<car_number>-<window start yyyyMMddHHmmss>``,
  ``SADD`` (idempotent, so a replay adds nothing) and ``EXPIRE`` ``alert_ttl_days``.
* ``car:<car_number>`` (a hash): ``speed``, ``area``, ``time`` of the car's newest event. Written
  by a small Lua script that compares ``time`` first, so an older event (a replay, a late
  duplicate) never overwrites a newer state, atomically on the server.
* ``pilot:realtime:<group>:closed:<yyyyMMdd>`` (a hash per event day): car -> start of the car's
  last closed window that day, expiring with the alerts. Kept so a restarted loader does not
  evaluate a window twice on partial data (see :mod:`windows`); per day, so a backfill of an
  earlier day is not mistaken for a replay.

One poll's writes go in one ``MULTI``/``EXEC`` pipeline: alerts and window progress land
together or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from ingest.loaders.retry import NO_DEADLINE, Backoff, with_retry
from ingest.loaders.windows import Closed
from ingest.stopping import StopFlag
from pilot.settings import Settings

log = logging.getLogger(__name__)

LATEST_STATE_LUA = """
local current = redis.call('HGET', KEYS[1], 'time')
if current and current >= ARGV[3] then
  return 0
end
redis.call('HSET', KEYS[1], 'speed', ARGV[1], 'area', ARGV[2], 'time', ARGV[3])
return 1
"""


def alerts_key(day: str) -> str:
    """The set of a day's overspeed alerts (read by :mod:`ingest.loaders.alerts`)."""
    return day


def latest_key(car: str) -> str:
    return f"car:{car}"


def closed_key(group: str, day: str) -> str:
    return f"pilot:realtime:{group}:closed:{day}"


def closed_keys_pattern(group: str) -> str:
    return f"pilot:realtime:{group}:closed:*"


def retry_errors() -> tuple[type[BaseException], ...]:
    import redis

    return (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError, OSError)


class RedisSink:
    def __init__(self, s: Settings, group: str, backoff: Backoff = NO_DEADLINE,
                 stop: StopFlag | None = None, client: Any = None) -> None:
        import redis

        self.address = f"{s.redis_host}:{s.redis_port}"
        self.client = client or redis.Redis(
            host=s.redis_host, port=s.redis_port, db=s.redis_db, password=s.redis_password or None,
            socket_timeout=15, socket_connect_timeout=5, decode_responses=True)
        self.ttl = s.alert_ttl_days * 86_400
        self.group = group
        self.backoff = backoff
        self.stop = stop
        self.errors = retry_errors()
        self.latest_script = self.client.register_script(LATEST_STATE_LUA)
        self.alerts_written = 0

    def _retry(self, action: Any) -> Any:
        return with_retry(action, "Redis", self.address, self.errors, self.backoff, stop=self.stop)

    def load_closed_through(self) -> list[tuple[str, str]]:
        def load() -> list[tuple[str, str]]:
            pairs: list[tuple[str, str]] = []
            for key in self.client.scan_iter(match=closed_keys_pattern(self.group), count=1000):
                pairs.extend(self.client.hgetall(key).items())
            return pairs

        return self._retry(load)

    def write(self, closed: Iterable[Closed], latest: dict[str, tuple[str, str, str]]) -> None:
        """One transaction: alerts (SADD + EXPIRE), window progress, newer-only latest states."""
        closed = list(closed)
        if not closed and not latest:
            return
        alerts = [c for c in closed if c.alert]
        progress: dict[str, dict[str, str]] = {}  # day -> car -> start; later closes come later
        for c in closed:
            progress.setdefault(c.day, {})[c.car] = c.start

        def run() -> None:
            pipe = self.client.pipeline(transaction=True)
            days: set[str] = set()
            for c in alerts:
                pipe.sadd(alerts_key(c.day), c.member)
                days.add(c.day)
            for day in sorted(days):
                pipe.expire(alerts_key(day), self.ttl)
            for day, starts in sorted(progress.items()):
                key = closed_key(self.group, day)
                pipe.hset(key, mapping=starts)
                pipe.expire(key, self.ttl)
            script = self.latest_script
            for car, (speed, area, when) in latest.items():
                script(keys=[latest_key(car)], args=[speed, area, when], client=pipe)
            pipe.execute()

        self._retry(run)
        self.alerts_written += len(alerts)
