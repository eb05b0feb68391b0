"""Row count and checksum of exported rows, computed by PostgreSQL over the target.

The checksum is the one of :mod:`export.checksum` over each row's canonical text: the canonical
texts of the exported columns (:meth:`export.types.ColumnType.sql_text`) joined by tabs, NULL as
``\\N`` — exactly what the codec hashed on the Python side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from psycopg2 import sql

from export.checksum import sql_row_hash
from export.codec import FieldSpec
from pilot.errors import PilotError


class ChecksumMismatch(PilotError):
    """The target does not hold what was read from HDFS."""


@dataclass(frozen=True)
class Tally:
    rows: int
    checksum: int


def row_text_sql(columns: Sequence[FieldSpec], alias: str | None = None) -> sql.Composable:
    """The canonical row text: columns rendered as text, NULL as ``\\N``, joined by tabs."""
    parts = []
    for spec in columns:
        ref = sql.Identifier(alias, spec.name) if alias else sql.Identifier(spec.name)
        rendered = sql.SQL(spec.type.sql_text()).format(ref)
        if spec.nullable:
            rendered = sql.SQL("coalesce({}, {})").format(rendered, sql.Literal("\\N"))
        parts.append(rendered)
    return sql.SQL("concat_ws(E'\\t', {})").format(sql.SQL(", ").join(parts))


def checksum_sql(
    table: sql.Composable, columns: Sequence[FieldSpec], where: sql.Composable, kind: str,
    alias: str = "t",
) -> sql.Composed:
    """SELECT count(*), checksum FROM table AS alias WHERE <where>."""
    row_hash = sql_row_hash(kind, row_text_sql(columns, alias))
    return sql.SQL("SELECT count(*), coalesce(sum({}), 0) FROM {} AS {} WHERE {}").format(
        row_hash, table, sql.Identifier(alias), where)


def tally(cur: Any, statement: sql.Composable) -> Tally:
    cur.execute(statement)
    rows, checksum = cur.fetchone()
    return Tally(int(rows), int(checksum))


def compare(source: Tally, target: Tally, where: str) -> None:
    if source != target:
        raise ChecksumMismatch(
            f"{where}: the target holds {target.rows:,} rows (checksum {target.checksum}) but "
            f"{source.rows:,} rows (checksum {source.checksum}) were read; nothing was committed")
