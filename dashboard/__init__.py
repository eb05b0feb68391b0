"""The dashboard: one page with the live overspeed alerts and each car's latest area (Redis), and
per day the average speed per area, the cars needing inspection and why, the drivers with
symptoms, and the recommendations and clusters once the analysis exists (PostgreSQL).

Served by the model-api service at ``/dashboard`` (read-only: GET routes only); the chart code is
Chart.js from npm, installed by `make setup` into ``dashboard/node_modules`` and served from there.
"""
