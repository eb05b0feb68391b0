"""The analysis tables of a business date that Hive SQL builds from the marts.

Each is partitioned by ``biz_date`` and built the marts' way (write-audit-publish, with
data-quality gates), from the SQL in ``sql/hive/analysis/`` (DOMAIN "Analysis"):

* ``analysis_fastest_car_per_area``: per area the car(s) with the highest *average* speed;
* ``analysis_area_avg_speed``: per area the day's average speed, kept where it is at least the
  ``min_speed`` parameter (default 60 km/h);
* ``analysis_overspeed_by_region_age``: overspeed windows per region and age band, by the real-time
  alert rule (window length and threshold from the settings) applied to the drive mart;
* ``analysis_status_health``: every status record with the classifier's 14 features, its health
  points and its label (``abnormal`` below 6 points).
"""

from __future__ import annotations

from typing import Any

from marts.catalog import Mart, get_mart
from marts.config import MartConfig
from marts.hive import HiveSession
from marts.runner import Log, MartResult, MissingUpstream, build_one, ensure_input_tables, partition_exists
from pilot.dates import Day
from pilot.settings import Settings, get_settings
from pilot.sql_values import SqlValue, threshold

DEFAULT_MIN_SPEED = 60.0
DRIVE_MART = get_mart("drive").name
STATUS_MART = get_mart("status").name

EXPLORATIONS: tuple[Mart, ...] = (
    Mart(6, "analysis_fastest_car_per_area", "fastest", "biz_date", (), (DRIVE_MART,),
         ("area_number", "car_number"), may_be_empty=True, folder="analysis"),
    Mart(7, "analysis_area_avg_speed", "area-speed", "biz_date", (), (DRIVE_MART,), ("area_number",),
         may_be_empty=True, folder="analysis"),
    Mart(8, "analysis_overspeed_by_region_age", "overspeed", "biz_date", (), (DRIVE_MART,),
         ("region", "age_band"), may_be_empty=True, folder="analysis"),
    Mart(9, "analysis_status_health", "health", "biz_date", (), (STATUS_MART,), ("car_number", "reg_date"),
         folder="analysis"),
)
_BY_NAME = {t.name: t for t in EXPLORATIONS} | {t.alias: t for t in EXPLORATIONS}


def select_tables(names: list[str] | None) -> list[Mart]:
    from pilot.errors import InvalidInput

    if not names:
        return list(EXPLORATIONS)
    unknown = [n for n in names if n not in _BY_NAME]
    if unknown:
        known = ", ".join(f"{t.name} ({t.alias})" for t in EXPLORATIONS)
        raise InvalidInput(f"unknown exploration table {unknown[0]!r}; known: {known}")
    wanted = {_BY_NAME[n].name for n in names}
    return [t for t in EXPLORATIONS if t.name in wanted]


def exploration_params(config: MartConfig, day: Day, settings: Settings,
                       min_speed: float = DEFAULT_MIN_SPEED) -> dict[str, SqlValue]:
    return {
        **config.params(day),
        "min_speed": threshold("min speed", min_speed, 0, 1000),
        "window_seconds": threshold("overspeed window", settings.overspeed_window_seconds, 1, 86_400),
        "overspeed_threshold": threshold("overspeed threshold", settings.overspeed_speed_kmh, 0, 1000),
    }


def build_explorations(
    biz_date: Day | str, names: list[str] | None = None, *, min_speed: float = DEFAULT_MIN_SPEED,
    config: MartConfig | None = None, settings: Settings | None = None, log: Log = print,
    hive: HiveSession | None = None, hdfs_client: Any = None,
) -> list[MartResult]:
    """Build the exploration tables of one business date from its published drive mart."""
    day = Day.of(biz_date)
    settings = settings or get_settings()
    config = config or MartConfig.from_settings(settings)
    params = exploration_params(config, day, settings, min_speed)
    if hdfs_client is None:
        from hdfs import InsecureClient

        hdfs_client = InsecureClient(settings.webhdfs_url, user=settings.hdfs_user)
    own = hive is None
    session = hive or HiveSession(settings)
    try:
        ensure_input_tables(session, params)
        tables = select_tables(names)
        for upstream in sorted({u for table in tables for u in table.upstream}):
            if not partition_exists(session, params, upstream):
                raise MissingUpstream(
                    f"the analysis tables of {day} read {upstream}, which has not been built for that "
                    f"date; run `pilot marts build --date {day} --mart {get_mart(upstream).alias}`")
        log(f"analysis tables for {day} in Hive database {config.database}:")
        return [build_one(session, table, params, log, True, hdfs_client, settings) for table in tables]
    finally:
        if own:
            session.close()
