"""The dashboard without services: the live view from a fake Redis, the routes (read-only, a
readable 503 when a store is down, bad dates refused), the page's own files served locally."""

from __future__ import annotations

import fnmatch
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dashboard import web
from dashboard.live import live_view
from dashboard.web import DayCache, dashboard_router
from pilot.errors import ServiceUnavailable
from pilot.settings import Settings


class FakeRedis:
    """The keys the real-time loader writes: day sets and ``car:<car>`` hashes (text replies)."""

    def __init__(self, sets: dict[str, set[str]], hashes: dict[str, dict[str, str]]) -> None:
        self.sets, self.hashes = sets, hashes

    def scan_iter(self, match: str, count: int = 10) -> list[str]:
        return [k for k in [*self.sets, *self.hashes, "pilot:realtime:g:closed:20200322"]
                if fnmatch.fnmatchcase(k, match)]

    def smembers(self, key: str) -> set[str]:
        return self.sets.get(key, set())

    def pipeline(self, transaction: bool = True) -> FakeRedis:
        self.queued: list[str] = []
        return self

    def hgetall(self, key: str) -> None:
        self.queued.append(key)

    def execute(self) -> list[dict[str, str]]:
        return [self.hashes.get(k, {}) for k in self.queued]


REDIS = FakeRedis(
    {"20200321": {"A0001-20200321235930"},
     "20200322": {"A0002-20200322000000", "A0002-20200322000030", "B0003-20200322133000"}},
    {"car:A0002": {"speed": "91", "area": "A03", "time": "20200322133011"},
     "car:B0003": {"speed": "40", "area": "B01", "time": "20200322133009"},
     "car:A0001": {"speed": "0", "area": "A03", "time": "20200322000001"}})


def test_the_live_view_of_the_newest_day_with_alerts_per_hour_and_cars_per_area() -> None:
    view = live_view(REDIS, None, window_seconds=30)
    assert view["day"] == "20200322" and view["days"] == ["20200321", "20200322"]
    assert (view["alerts"], view["alert_cars"]) == (3, 2)
    per_hour = view["alerts_per_hour"]
    assert per_hour[0] == 2 and per_hour[13] == 1 and sum(per_hour) == 3
    assert view["recent_alerts"][0] == {"car": "B0003", "start": "20200322133000", "end": "20200322133030"}
    assert view["cars_per_area"] == {"A03": 2, "B01": 1}
    assert [c["car"] for c in view["cars"]] == ["A0001", "A0002", "B0003"]
    assert live_view(REDIS, "20200321", 30)["cars"] == []  # every car's latest event is of the 22nd
    assert live_view(REDIS, "20200321", 30)["alerts"] == 1


def test_the_day_cache_answers_again_within_its_time_and_asks_after() -> None:
    now = [0.0]
    cache = DayCache(ttl=10, clock=lambda: now[0])
    calls = []
    compute = lambda: calls.append(1) or {"n": len(calls)}  # noqa: E731
    assert cache.get("d", compute) == {"n": 1}
    now[0] = 5
    assert cache.get("d", compute) == {"n": 1}
    now[0] = 11
    assert cache.get("d", compute) == {"n": 2}


@pytest.fixture()
def client(monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setattr(web, "redis", lambda s: REDIS)
    app = FastAPI()
    app.include_router(dashboard_router(Settings()))
    return TestClient(app)


def test_the_page_and_its_files_are_served_locally_no_cdn(client: TestClient) -> None:
    page = client.get("/dashboard")
    assert page.status_code == 200 and "<canvas" in page.text
    assets = [line for line in page.text.splitlines() if "<script" in line or "<link" in line]
    assert assets and not any("http" in line for line in assets)
    for name in ("dashboard.js", "dashboard.css", "chart.umd.min.js"):
        assert client.get(f"/dashboard/static/{name}").status_code == 200, name
    assert client.get("/dashboard/static/..%2Fweb.py").status_code >= 400
    assert client.get("/dashboard/static/web.py").status_code == 404


def test_live_json_and_bad_dates_refused(client: TestClient) -> None:
    assert client.get("/dashboard/api/live").json()["alerts"] == 3
    assert client.get("/dashboard/api/live", params={"date": "20201345"}).status_code == 400
    assert client.get("/dashboard/api/day/2020-03-22;drop").status_code == 400


def test_a_store_that_is_down_is_named_with_how_to_start_it(monkeypatch: pytest.MonkeyPatch,
                                                            client: TestClient) -> None:
    def down(s: Any) -> Any:
        raise ServiceUnavailable("Redis", "127.0.0.1:6379", "Connection refused")

    monkeypatch.setattr(web, "redis", down)
    answer = client.get("/dashboard/api/live")
    assert answer.status_code == 503
    assert answer.json()["service"] == "Redis" and "pilot stack up" in answer.json()["message"]


def test_there_is_no_write_path(client: TestClient) -> None:
    app = client.app
    for route in app.routes:
        if route.path.startswith("/dashboard"):
            assert route.methods <= {"GET", "HEAD"}, route.path
    for method in ("post", "put", "delete", "patch"):
        assert getattr(client, method)("/dashboard/api/live").status_code == 405
