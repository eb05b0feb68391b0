"""The five marts and the input tables: names, SQL files, partition keys and dependencies."""

from __future__ import annotations

from dataclasses import dataclass

from pilot.dates import Day
from pilot.errors import InvalidInput


@dataclass(frozen=True)
class Mart:
    number: int
    name: str
    alias: str
    partition_column: str  # biz_date (yyyyMMdd) or biz_month (yyyyMM)
    inputs: tuple[str, ...]  # input tables read from HDFS
    upstream: tuple[str, ...]  # marts whose partition must exist first
    key_columns: tuple[str, ...]  # one row per key within a partition (empty: no natural key)
    may_be_empty: bool = False
    folder: str = "marts"  # where its build file lives under sql/hive/ (analysis tables: analysis)

    @property
    def build_file(self) -> str:
        return f"{self.folder}/{self.name}.sql"

    @property
    def checks_file(self) -> str:
        return f"checks/{self.name}.sql"

    @property
    def monthly(self) -> bool:
        return self.partition_column == "biz_month"

    def partition_of(self, day: Day) -> str:
        """The partition value holding business date ``day``: yyyyMM for a monthly mart, else yyyyMMdd."""
        return day.month.text if self.monthly else day.text


STATUS = "smartcar_status_info"
DRIVE = "smartcar_drive_info"
MASTER = "smartcar_master"
BUYLIST = "smartcar_item_buylist"
MASTER_OVER18 = "smartcar_master_over18"
PARTITIONED_INPUTS = (STATUS, DRIVE)
# The purchase list has no daily partition: a day's data counts as landed once its status
# partition has, so a build over the purchase list waits for that partition too.
LANDS_WITH = {BUYLIST: STATUS}
INPUT_TABLES = (STATUS, DRIVE, MASTER, BUYLIST)
INPUT_FILES = (
    "inputs/00_database.sql",
    f"inputs/{STATUS}.sql",
    f"inputs/{DRIVE}.sql",
    f"inputs/{MASTER}.sql",
    f"inputs/{BUYLIST}.sql",
    f"inputs/{MASTER_OVER18}.sql",
)

MARTS: tuple[Mart, ...] = (
    Mart(1, "managed_smartcar_status_info", "status", "biz_date", (STATUS, MASTER), (),
         ("car_number", "reg_date")),
    Mart(2, "managed_smartcar_drive_info", "drive", "biz_date", (DRIVE, MASTER), (),
         ("car_number", "r_date")),
    Mart(3, "managed_smartcar_symptom_info", "symptom", "biz_date", (), ("managed_smartcar_drive_info",),
         ("car_number",)),
    Mart(4, "managed_smartcar_emergency_check_info", "emergency", "biz_date", (),
         ("managed_smartcar_status_info",), ("car_number",), may_be_empty=True),
    Mart(5, "managed_smartcar_item_buylist_info", "buylist", "biz_month", (BUYLIST, MASTER), (), ()),
)
MART_NAMES = tuple(m.name for m in MARTS)
_BY_NAME = {m.name: m for m in MARTS} | {m.alias: m for m in MARTS}

# Every table name a .sql file may be bound to (the identifier allow-list).
KNOWN_TABLES = frozenset((STATUS, DRIVE, MASTER, BUYLIST, MASTER_OVER18, *MART_NAMES))


def get_mart(name: str) -> Mart:
    """A mart by its table name or short alias (status, drive, symptom, emergency, buylist)."""
    try:
        return _BY_NAME[name]
    except (KeyError, TypeError):
        known = ", ".join(f"{m.name} ({m.alias})" for m in MARTS)
        raise InvalidInput(f"unknown mart {name!r}; known marts: {known}") from None


def select_marts(names: list[str] | None) -> list[Mart]:
    """The requested marts in build order (all five when ``names`` is empty)."""
    if not names:
        return list(MARTS)
    wanted = {get_mart(n).name for n in names}
    return [m for m in MARTS if m.name in wanted]


def known_table(name: str) -> str:
    if name not in KNOWN_TABLES:
        raise InvalidInput(f"{name!r} is not one of the pilot's Hive tables")
    return name
