"""The dashboard's routes (FastAPI), mounted by the model-api app at ``/dashboard``.

Read-only by construction: every route is a GET; there is nothing to write. Each JSON route opens
its store, answers, and closes it; a store that is down gives a 503 whose ``message`` names it and
how to start it, which the page shows in place of the panel.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from dashboard.daily import day_view, exported_days
from dashboard.live import live_view
from pilot.dates import Day
from pilot.errors import InvalidInput, ServiceUnavailable
from pilot.settings import Settings

STATIC = Path(__file__).with_name("static")
CHART_JS = Path(__file__).with_name("node_modules") / "chart.js" / "dist" / "chart.umd.min.js"
FILES = {"dashboard.js": (STATIC / "dashboard.js", "text/javascript"),
         "dashboard.css": (STATIC / "dashboard.css", "text/css"),
         "chart.umd.min.js": (CHART_JS, "text/javascript")}
DAY_CACHE_SECONDS = 20.0  # a day's marts change only when they are exported again


@contextlib.contextmanager
def postgres(s: Settings) -> Iterator[Any]:
    import psycopg2

    try:
        conn = psycopg2.connect(s.postgres_dsn, connect_timeout=5, options="-c statement_timeout=30000")
    except psycopg2.OperationalError as exc:
        raise ServiceUnavailable("PostgreSQL", f"{s.postgres_host}:{s.postgres_port}",
                                 str(exc).strip().splitlines()[0]) from exc
    try:
        yield conn
    finally:
        conn.close()


def redis(s: Settings) -> Any:
    from ingest.loaders.stores import redis_reader

    return redis_reader(s)


class DayCache:
    """The per-day view for a few seconds, so that many open pages cost one query per panel."""

    def __init__(self, ttl: float = DAY_CACHE_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.clock = ttl, clock
        self.entries: dict[str, tuple[float, dict[str, Any]]] = {}

    def get(self, key: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        hit = self.entries.get(key)
        if hit and self.clock() - hit[0] < self.ttl:
            return hit[1]
        value = compute()
        self.entries = {k: v for k, v in self.entries.items() if self.clock() - v[0] < self.ttl}
        self.entries[key] = (self.clock(), value)
        return value


def dashboard_router(s: Settings) -> Any:
    from fastapi import APIRouter, HTTPException
    from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

    router = APIRouter(prefix="/dashboard", tags=["dashboard"])
    cache = DayCache()

    def answer(compute: Callable[[], Any]) -> Any:
        try:
            return compute()
        except ServiceUnavailable as exc:
            return JSONResponse({"service": exc.service, "message": str(exc)}, status_code=503)
        except InvalidInput as exc:
            raise HTTPException(400, str(exc)) from None

    @router.get("", response_class=HTMLResponse, include_in_schema=False)
    @router.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> Any:
        return HTMLResponse((STATIC / "index.html").read_text(encoding="utf-8"),
                            headers={"Cache-Control": "no-store"})

    @router.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Any:
        if name not in FILES:
            raise HTTPException(404, "no such file")
        path, media = FILES[name]
        if not path.exists():
            raise HTTPException(500, f"{path.name} is missing: run `make setup` (it installs the chart code "
                                     "from npm into dashboard/node_modules)")
        return FileResponse(path, media_type=media, headers={"Cache-Control": "max-age=3600"})

    @router.get("/api/live")
    def live(date: str | None = None) -> Any:
        def compute() -> Any:
            day = Day.parse(date, "date").text if date else None
            return live_view(redis(s), day, s.overspeed_window_seconds)
        return answer(compute)

    @router.get("/api/days")
    def days() -> Any:
        def compute() -> Any:
            with postgres(s) as conn:
                return {"days": exported_days(conn)}
        return answer(compute)

    @router.get("/api/day/{date}")
    def day(date: str) -> Any:
        def compute() -> Any:
            parsed = Day.parse(date, "date")

            def query() -> dict[str, Any]:
                with postgres(s) as conn:
                    return day_view(conn, parsed)
            return cache.get(parsed.text, query)
        return answer(compute)

    return router
