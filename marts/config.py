"""What a mart build needs besides the date: where inputs live, thresholds, lateness, database.

Defaults come from :mod:`pilot.settings`; tests point the same code at their own Hive database and
HDFS folders. :meth:`MartConfig.params` turns everything into validated SQL values.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from marts.catalog import known_table
from pilot.dates import Day
from pilot.errors import InvalidInput
from pilot.rules import Thresholds
from pilot.settings import Settings, get_settings
from pilot.sql_values import SqlDate, SqlIdentifier, SqlLocation, SqlMonth, SqlValue, threshold

DEFAULT_LATE_DAYS = 1
# Where audited builds live (write-audit-publish); a published partition points into it.
AUDIT_DIR = "/user/hive/warehouse/_audit"
MAX_LATE_DAYS = 31


def late_days(value: object) -> int:
    """How many days after the business date a record may still arrive (0..31)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_LATE_DAYS:
        raise InvalidInput(f"late days must be a whole number 0..{MAX_LATE_DAYS}, got {value!r}")
    return value


@dataclass(frozen=True)
class MartConfig:
    database: str
    hdfs_uri: str  # hdfs://host:port
    status_dir: str  # HDFS paths without the scheme
    drive_dir: str
    master_dir: str
    buylist_dir: str
    rules: Thresholds
    late_days: int = DEFAULT_LATE_DAYS
    audit_dir: str = AUDIT_DIR

    @classmethod
    def from_settings(cls, s: Settings | None = None, **overrides: object) -> MartConfig:
        s = s or get_settings()
        config = cls(
            database=s.hive_database,
            hdfs_uri=s.hdfs_uri,
            status_dir=s.hdfs_status_dir,
            drive_dir=s.hdfs_drive_dir,
            master_dir=s.hdfs_master_dir,
            buylist_dir=s.hdfs_buylist_dir,
            rules=Thresholds.from_settings(s),
        )
        given = {k: v for k, v in overrides.items() if v is not None}
        rule_names = {f.name for f in dataclasses.fields(Thresholds)}
        rules = dataclasses.replace(config.rules, **{k: v for k, v in given.items() if k in rule_names})
        return dataclasses.replace(config, rules=rules,
                                   **{k: v for k, v in given.items() if k not in rule_names})

    def location(self, path: str) -> SqlLocation:
        return SqlLocation(f"{self.hdfs_uri}{path}")

    def base_params(self) -> dict[str, SqlValue]:
        """Parameters that do not depend on the date (database, input locations, thresholds)."""
        return {
            "db": SqlIdentifier(self.database),
            "status_location": self.location(self.status_dir),
            "drive_location": self.location(self.drive_dir),
            "master_location": self.location(self.master_dir),
            "buylist_location": self.location(self.buylist_dir),
            "audit_base": self.location(f"{self.audit_dir}/{self.database}"),
            "z_threshold": threshold("z threshold", self.rules.z_threshold, 0, 1e6),
            "sharp_turn_share_threshold": threshold(
                "sharp-turn share threshold", self.rules.sharp_share_threshold, 0, 1),
            "tire_threshold": threshold("tyre threshold", self.rules.tire_threshold, 0, 1e6),
            "battery_threshold": threshold("battery threshold", self.rules.battery_threshold, 0, 1e6),
        }

    def params(self, biz_date: Day | str) -> dict[str, SqlValue]:
        """Every parameter of the build and check files for one business date."""
        day = Day.of(biz_date)
        return {
            **self.base_params(),
            "biz_date": SqlDate.of(day),
            "last_wrk_date": SqlDate.of(day.plus(late_days(self.late_days))),
            "biz_month": SqlMonth(day.month.text),
        }

    def collection_dates(self, biz_date: Day | str) -> list[str]:
        """The collection partitions a business date reads: D and the next ``late_days`` days."""
        day = Day.of(biz_date)
        return [day.plus(i).text for i in range(late_days(self.late_days) + 1)]

    def input_dir(self, table: str) -> str:
        known_table(table)
        return {
            "smartcar_status_info": self.status_dir,
            "smartcar_drive_info": self.drive_dir,
            "smartcar_master": self.master_dir,
            "smartcar_item_buylist": self.buylist_dir,
        }[table]
