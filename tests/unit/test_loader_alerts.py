"""Reading the overspeed alerts back from Redis: the real-time loader's sets, through a fake client."""

from __future__ import annotations

from typing import Any

from ingest.loaders.alerts import car_of, overspeed_alerts, top_overspeed_cars
from ingest.loaders.redis_sink import alerts_key
from ingest.loaders.windows import Closed

DAY = "20200322"


class FakeRedis:
    """The one call the readers make, over sets of bytes (a client without decode_responses)."""

    def __init__(self, sets: dict[str, set[str]], as_bytes: bool = True) -> None:
        self.sets = {key: {m.encode() if as_bytes else m for m in members} for key, members in sets.items()}

    def smembers(self, key: str) -> set[Any]:
        return set(self.sets.get(key, set()))


def member(car: str, start: str) -> str:
    return Closed(car, f"{DAY}{start}", 90.0, 15, True, None).member


ALERTS = {
    alerts_key(DAY): {member("B0002", "000000"), member("B0002", "000030"), member("B0002", "101500"),
                      member("A0001", "000000"), member("A0001", "120030"),
                      member("C0003", "000000"), member("C0003", "000030"), member("D0004", "235930")},
    alerts_key("20200323"): {member("Z0009", "000000")},
}


def test_the_members_are_car_and_window_start() -> None:
    assert member("A0001", "120030") == f"A0001-{DAY}120030"
    assert car_of(f"A0001-{DAY}120030") == "A0001"


def test_alerts_of_a_day_as_text_from_bytes_or_text_clients() -> None:
    for as_bytes in (True, False):
        alerts = overspeed_alerts(FakeRedis(ALERTS, as_bytes), DAY)  # type: ignore[arg-type]
        assert alerts == ALERTS[alerts_key(DAY)]
    assert overspeed_alerts(FakeRedis(ALERTS), "20200324") == set()  # type: ignore[arg-type]


def test_top_cars_by_windows_then_car_number() -> None:
    client: Any = FakeRedis(ALERTS)
    assert top_overspeed_cars(client, DAY) == [("B0002", 3), ("A0001", 2), ("C0003", 2), ("D0004", 1)]
    assert top_overspeed_cars(client, DAY, n=2) == [("B0002", 3), ("A0001", 2)]
    assert top_overspeed_cars(client, DAY, n=0) == []
    assert top_overspeed_cars(client, "20200323") == [("Z0009", 1)]
    assert top_overspeed_cars(client, "20200324") == []
