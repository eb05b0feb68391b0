"""The Airflow UI's link to the project's dashboard: a "Smart-car dashboard" entry in the nav bar
that shows the dashboard (served by model-api) inside the Airflow UI."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from pilot.settings import get_settings


class SmartcarDashboardLink(AirflowPlugin):
    name = "smartcar_dashboard"
    external_views = [{  # noqa: RUF012 - Airflow's plugin API is a class attribute
        "name": "Smart-car dashboard",
        "href": f"{get_settings().model_api_url}/dashboard",
        "url_route": "smartcar-dashboard",
        "destination": "nav",
    }]
