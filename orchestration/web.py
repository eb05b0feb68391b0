"""The model-api service's web app: the prediction API (`analysis.serving`) and the dashboard
(`dashboard.web`) on one port (``uvicorn --factory orchestration.web:create_app``)."""

from __future__ import annotations

from typing import Any

from pilot.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> Any:
    from analysis.serving import create_app as prediction_app
    from dashboard.web import dashboard_router

    s = settings or get_settings()
    app = prediction_app(s)
    app.include_router(dashboard_router(s))
    return app
