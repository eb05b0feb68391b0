"""The export source: a mart partition's columns (from Hive) and its files (from WebHDFS)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from export import hiveql
from marts.catalog import Mart
from pilot.errors import InvalidInput, PilotError


class MissingSource(PilotError):
    """The mart partition (or export directory) to export does not exist."""


@dataclass(frozen=True)
class Source:
    mart: str
    partition_column: str
    partition_value: str
    columns: list[str]  # data columns, in file order
    location: str  # HDFS path of the partition folder (without scheme and authority)
    files: list[tuple[str, int]]  # (full path, size) of the data files, in name order


def hdfs_path(location: str) -> str:
    """``hdfs://host:port/a/b`` -> ``/a/b``; a plain absolute path stays as it is."""
    parsed = urlparse(location)
    path = parsed.path if parsed.scheme else location
    if not path.startswith("/"):
        raise MissingSource(f"{location!r} is not an absolute HDFS location")
    return path.rstrip("/") or "/"


def describe_partition(hive: Any, database: str, mart: Mart, value: str) -> tuple[list[str], str]:
    """(data columns in order, partition location) from ``DESCRIBE FORMATTED ... PARTITION``."""
    try:  # validated by the caller; checked again because it reaches the SQL
        partition = hiveql.partition_value(mart, value)
    except InvalidInput as exc:
        raise MissingSource(f"partition value {value!r}: {exc}") from None
    statement = hiveql.describe_partition(database, mart, partition)
    try:
        rows = hive.query(statement).rows
    except PilotError as exc:
        raise MissingSource(
            f"mart {mart.name} has no partition {mart.partition_column}={value} in Hive database "
            f"{database}; build it with `pilot marts build --date ...` ({exc})") from None
    columns = _data_columns(rows, mart)
    location = next((str(k).strip() for n, k, *_ in rows if (n or "").strip() == "Location"), None)
    if location is None:
        raise MissingSource(f"Hive did not report a location for {mart.name} {mart.partition_column}={value}")
    return columns, hdfs_path(location)


def _data_columns(rows: list[tuple[Any, ...]], mart: Mart) -> list[str]:
    columns: list[str] = []
    for name, *_ in rows:
        name = (name or "").strip()
        if not name or name.startswith("#"):
            break
        if name != mart.partition_column:
            columns.append(name)
    return columns


def describe_table(hive: Any, database: str, mart: Mart) -> list[str]:
    """The data columns of a mart table, in file order (no partition needed)."""
    statement = hiveql.describe_table(database, mart)
    try:
        rows = hive.query(statement).rows
    except PilotError as exc:
        raise MissingSource(f"mart table {database}.{mart.name} does not exist in Hive ({exc})") from None
    return _data_columns(rows, mart)


def list_files(client: Any, path: str) -> list[tuple[str, int]]:
    """Visible data files of a folder, by name (``_SUCCESS``, ``.crc`` and ``_tmp`` files skipped)."""
    from hdfs.util import HdfsError

    try:
        entries = client.list(path, status=True)
    except HdfsError as exc:
        raise MissingSource(f"cannot list {path} in HDFS: {exc}") from None
    return [
        (f"{path}/{name}", int(info["length"])) for name, info in sorted(entries)
        if info["type"] == "FILE" and not name.startswith(("_", "."))
    ]


def resolve_source(
    hive: Any, client: Any, database: str, mart: Mart, value: str, export_dir: str | None = None,
) -> Source:
    """Columns from Hive; files from the partition's location, or from ``export_dir`` if given
    (Sqoop's --export-dir: any folder of files in the mart's format, partition not needed)."""
    if export_dir:
        columns, location = describe_table(hive, database, mart), hdfs_path(export_dir)
    else:
        columns, location = describe_partition(hive, database, mart, value)
    return Source(mart.name, mart.partition_column, value, columns, location, list_files(client, location))
