"""The exporter's Hive statements: files of ``sql/hive/ops/`` bound through the marts' binder.

Every value is a validated :mod:`pilot.sql_values` value, as for the marts' own statements; nothing
is spliced into HiveQL here.
"""

from __future__ import annotations

from marts import sqlfile
from marts.catalog import Mart
from pilot.sql_values import SqlDate, SqlIdentifier, SqlMonth, SqlValue

DESCRIBE_TABLE = "ops/describe_table.sql"
DESCRIBE_PARTITION = "ops/describe_partition.sql"
LIST_PARTITIONS = "ops/list_partitions.sql"


def partition_value(mart: Mart, value: str) -> SqlDate | SqlMonth:
    """A mart's partition value: ``yyyyMM`` for the monthly mart, else ``yyyyMMdd`` (validated)."""
    return SqlMonth(value) if mart.monthly else SqlDate(value)


def _table(database: str, mart: Mart) -> dict[str, SqlValue]:
    return {"db": SqlIdentifier(database), "table": SqlIdentifier(mart.name)}


def _one(relative: str, params: dict[str, SqlValue]) -> str:
    found = sqlfile.statements(relative, params)
    if len(found) != 1:
        raise sqlfile.SqlFileError(f"{relative} must hold exactly one statement, has {len(found)}")
    return found[0]


def describe_table(database: str, mart: Mart) -> str:
    return _one(DESCRIBE_TABLE, _table(database, mart))


def describe_partition(database: str, mart: Mart, value: SqlDate | SqlMonth) -> str:
    return _one(DESCRIBE_PARTITION, {
        **_table(database, mart),
        "partition_column": SqlIdentifier(mart.partition_column),
        "partition_value": value,
    })


def list_partitions(database: str, mart: Mart) -> str:
    return _one(LIST_PARTITIONS, _table(database, mart))
