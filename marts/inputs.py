"""The HDFS inputs of a build: check they exist, then register their partitions in Hive.

A business date D needs the collection partition ``wrk_date=D`` of each partitioned input it
reads; partitions D+1..D+late_days are added when present (late arrivals) and are optional.
A missing required input is a :class:`MissingInput` naming the HDFS path and the loader to run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from marts import sqlfile
from marts.catalog import BUYLIST, MASTER, PARTITIONED_INPUTS, Mart
from marts.config import MartConfig
from pilot.dates import Day
from pilot.errors import PilotError, ServiceUnavailable
from pilot.sql_values import SqlDate, SqlIdentifier, SqlLocation

LOADER_HINT = "load it with the batch loader (`pilot load batch`)"


class MissingInput(PilotError):
    """A required input partition or file is not in HDFS."""


class Executor(Protocol):
    def execute(self, statement: str) -> None: ...


class HdfsLister(Protocol):
    def list(self, hdfs_path: str, status: bool = False) -> list: ...  # type: ignore[type-arg]


@dataclass(frozen=True)
class InputPartition:
    table: str
    wrk_date: str
    path: str
    files: int
    bytes: int


def data_files(client: HdfsLister, path: str) -> list[tuple[str, int]] | None:
    """(name, size) of the visible files of a folder; None if the folder does not exist."""
    from hdfs.util import HdfsError

    try:
        entries = client.list(path, status=True)
    except HdfsError as exc:
        if "does not exist" in str(exc) or "FileNotFoundException" in str(exc):
            return None
        raise
    return [
        (name, int(info["length"])) for name, info in entries
        if info["type"] == "FILE" and not name.startswith(("_", "."))
    ]


def _listing(client: HdfsLister, path: str, config: MartConfig) -> list[tuple[str, int]] | None:
    try:
        return data_files(client, path)
    except PilotError:
        raise
    except Exception as exc:
        if type(exc).__name__ == "HdfsError":
            raise
        raise ServiceUnavailable("HDFS (WebHDFS)", config.hdfs_uri, str(exc)) from exc


def find_partitions(
    client: HdfsLister, config: MartConfig, biz_date: Day, tables: Iterable[str],
) -> list[InputPartition]:
    """The collection partitions to register; raises if wrk_date=D of a table is missing."""
    found: list[InputPartition] = []
    for table in tables:
        base = config.input_dir(table)
        for index, wrk_date in enumerate(config.collection_dates(biz_date)):
            path = f"{base}/wrk_date={wrk_date}"
            files = _listing(client, path, config)
            if not files:
                if index == 0:
                    state = "does not exist" if files is None else "has no data files yet"
                    raise MissingInput(
                        f"input partition {config.hdfs_uri}{path} ({table}) {state}; "
                        f"{LOADER_HINT} for collection date {wrk_date}")
                continue
            found.append(InputPartition(table, wrk_date, path, len(files), sum(s for _, s in files)))
    return found


def check_reference_data(
    client: HdfsLister, config: MartConfig, biz_date: Day, tables: Iterable[str],
) -> None:
    """The car master (and, for the purchase mart, the month's purchase file) must be in HDFS."""
    for table in tables:
        if table == MASTER:
            path = config.master_dir
            files = _listing(client, path, config)
            if not files:
                raise MissingInput(f"the car master {config.hdfs_uri}{path}/CarMaster.txt is missing; "
                                   f"{LOADER_HINT}, which uploads the reference data")
        elif table == BUYLIST:
            path = config.buylist_dir
            name = f"CarItemBuyList_{biz_date.month}.txt"
            files = _listing(client, path, config) or []
            if name not in {n for n, _ in files}:
                raise MissingInput(f"the purchase list {config.hdfs_uri}{path}/{name} is missing; "
                                   f"{LOADER_HINT}, which uploads the reference data")


def register(
    hive: Executor, config: MartConfig, partitions: Iterable[InputPartition], refresh: Iterable[str] = (),
) -> None:
    """ALTER TABLE ... ADD IF NOT EXISTS PARTITION ... LOCATION, then REFRESH the tables read
    (the loader may have added files since Spark last listed them)."""
    tables: set[str] = set(refresh)
    for part in partitions:
        params = {
            **config.base_params(),
            "table": SqlIdentifier(part.table),
            "wrk_date": SqlDate(part.wrk_date),
            "location": SqlLocation(f"{config.hdfs_uri}{part.path}"),
        }
        for statement in sqlfile.statements("ops/add_partition.sql", params):
            hive.execute(statement)
        tables.add(part.table)
    for table in sorted(tables):
        params = {**config.base_params(), "table": SqlIdentifier(table)}
        for statement in sqlfile.statements("ops/refresh_table.sql", params):
            hive.execute(statement)


def tables_needed(marts: Iterable[Mart]) -> tuple[list[str], list[str]]:
    """(partitioned inputs, reference inputs) the given marts read directly."""
    direct = {t for m in marts for t in m.inputs}
    return [t for t in PARTITIONED_INPUTS if t in direct], [t for t in (MASTER, BUYLIST) if t in direct]
