"""Reading the overspeed alerts back from Redis: the real-time loader's sets, through a fake client."""

from __future__ import annotations

from typing import Any

from ingest.loaders.alerts import car_of, day_alerts, follow_alerts, overspeed_alerts, top_overspeed_cars
from ingest.loaders.redis_sink import alerts_key
from ingest.loaders.windows import Closed
from ingest.stopping import StopFlag

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


def test_day_alerts_come_in_window_order_with_their_end() -> None:
    alerts = day_alerts(FakeRedis(ALERTS), DAY)
    assert [(a.start[8:], a.car) for a in alerts][:4] == [
        ("000000", "A0001"), ("000000", "B0002"), ("000000", "C0003"), ("000030", "B0002")]
    assert len(alerts) == 8
    last = alerts[-1]
    assert (last.car, last.end(30)) == ("D0004", "20200323000000")  # a window may end the next day


class StopAfter(StopFlag):
    """Stops after ``polls`` polls, adding members to the fake between polls."""

    def __init__(self, fake: FakeRedis, arrivals: list[set[str]]) -> None:
        super().__init__()
        self.fake, self.arrivals = fake, arrivals

    def wait(self, seconds: float) -> bool:
        if not self.arrivals:
            return True
        self.fake.sets.setdefault(alerts_key(DAY), set()).update(m.encode() for m in self.arrivals.pop(0))
        return False


def test_follow_yields_each_alert_once_as_it_arrives() -> None:
    fake = FakeRedis({alerts_key(DAY): {member("A0001", "000000")}})
    later = [{member("B0002", "000030")}, set(), {member("A0001", "000000"), member("C0003", "000100")}]
    polls = list(follow_alerts(fake, DAY, StopAfter(fake, later), interval=0))
    assert [[a.car for a in poll] for poll in polls] == [["A0001"], ["B0002"], [], ["C0003"]]
