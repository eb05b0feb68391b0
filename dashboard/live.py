"""The live panels, from Redis: the day's overspeed alerts and every car's latest state.

The real-time loader keeps a set per event day (key ``yyyyMMdd``, member ``<car>-<window start>``)
and a hash ``car:<car>`` with the car's latest speed, area and time (`ingest.loaders.redis_sink`).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from ingest.loaders.alerts import day_alerts
from ingest.loaders.redis_sink import latest_key

DAY_KEY = re.compile(r"^\d{8}$")
LATEST_PATTERN = latest_key("*")


def alert_days(client: Any) -> list[str]:
    """The days that have an alert set, oldest first."""
    return sorted(k for k in client.scan_iter(match="[0-9]" * 8, count=1000) if DAY_KEY.match(k))


def latest_states(client: Any) -> list[dict[str, Any]]:
    """Every car's latest speed, area and time (yyyyMMddHHmmss), by car number."""
    keys = sorted(client.scan_iter(match=LATEST_PATTERN, count=1000))
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.hgetall(key)
    states = []
    for key, state in zip(keys, pipe.execute(), strict=True):
        if state:
            states.append({"car": key.split(":", 1)[1], "area": state.get("area", ""),
                           "speed": int(float(state.get("speed") or 0)), "time": state.get("time", "")})
    return states


def live_view(client: Any, day: str | None, window_seconds: int, recent: int = 25) -> dict[str, Any]:
    """The live panels of ``day`` (default: the newest day with alerts): its alerts, and the cars
    whose latest event is of that day, with their area."""
    days = alert_days(client)
    day = day or (days[-1] if days else None)
    alerts = day_alerts(client, day) if day else []
    per_hour = [0] * 24
    for alert in alerts:
        per_hour[int(alert.start[8:10])] += 1
    states = [s for s in latest_states(client) if day and s["time"].startswith(day)]
    newest = sorted(alerts, key=lambda a: (a.start, a.car), reverse=True)[:recent]
    return {
        "day": day,
        "days": days,
        "alerts": len(alerts),
        "alert_cars": len({a.car for a in alerts}),
        "alerts_per_hour": per_hour,
        "recent_alerts": [{"car": a.car, "start": a.start, "end": a.end(window_seconds)} for a in newest],
        "cars": states,
        "cars_per_area": dict(sorted(Counter(s["area"] for s in states).items())),
    }
