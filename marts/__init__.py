"""The five Hive marts: SQL files in sql/hive/, a PyHive runner, data-quality gates and `pilot sql`."""

from marts.catalog import MART_NAMES, MARTS, Mart, get_mart
from marts.config import MartConfig
from marts.runner import MartResult, build_marts, check_marts, render_sql

__all__ = ["MARTS", "MART_NAMES", "Mart", "MartConfig", "MartResult", "build_marts", "check_marts",
           "get_mart", "render_sql"]
