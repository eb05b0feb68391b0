"""The PostgreSQL side of an export: target names, DDL, catalog introspection and staging tables.

Identifiers (schema, table, columns) are validated against ``^[a-z_][a-z0-9_]*$`` before any SQL
runs, and always quoted with :class:`psycopg2.sql.Identifier`; values go in as literals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from psycopg2 import sql

from export.types import ColumnType
from marts.catalog import Mart
from pilot.errors import PilotError
from pilot.settings import REPO_ROOT

IDENTIFIER_RE = re.compile(r"[a-z_][a-z0-9_]*")
MAX_IDENTIFIER = 63
DDL_DIR = REPO_ROOT / "sql" / "postgres"


class InvalidTarget(PilotError):
    """A target table, column list or key the exporter refuses."""


def identifier(text: str, what: str = "identifier") -> str:
    if not isinstance(text, str) or IDENTIFIER_RE.fullmatch(text) is None or len(text) > MAX_IDENTIFIER:
        raise InvalidTarget(f"{what} {text!r} is not allowed: use lower-case ^[a-z_][a-z0-9_]*$ "
                            f"(at most {MAX_IDENTIFIER} characters)")
    return text


def column_list(text: str | None, what: str = "column") -> list[str] | None:
    """``a,b,c`` -> ["a", "b", "c"], each validated; None stays None."""
    if text is None:
        return None
    names = [identifier(part.strip(), what) for part in text.split(",")]
    if len(set(names)) != len(names):
        raise InvalidTarget(f"{what} list {text!r} repeats a name")
    return names


@dataclass(frozen=True)
class TargetName:
    schema: str
    table: str

    @classmethod
    def parse(cls, text: str) -> TargetName:
        parts = text.split(".") if isinstance(text, str) else []
        if len(parts) == 1:
            parts = ["public", *parts]
        if len(parts) != 2:
            raise InvalidTarget(f"target {text!r} must be SCHEMA.TABLE or TABLE")
        return cls(identifier(parts[0], "schema"), identifier(parts[1], "table"))

    @property
    def sql(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.table)

    def sibling(self, name: str) -> sql.Identifier:
        return sql.Identifier(self.schema, name)

    def __str__(self) -> str:
        return f"{self.schema}.{self.table}"

    def derived(self, suffix: str) -> str:
        name = f"{self.table}{suffix}"
        if len(name) > MAX_IDENTIFIER:
            raise InvalidTarget(f"table name {self.table!r} is too long to derive {name!r}")
        return name


@dataclass(frozen=True)
class TargetColumn:
    name: str
    type_text: str
    not_null: bool
    has_default: bool

    @property
    def type(self) -> ColumnType:
        return ColumnType.parse(self.type_text)


@dataclass(frozen=True)
class Target:
    name: TargetName
    oid: int
    columns: dict[str, TargetColumn]
    partition_column: str | None  # set when the table is LIST-partitioned on one column
    unique_keys: list[tuple[str, ...]]  # PK and unique constraints/indexes (plain columns)
    constraints: list[tuple[str, tuple[str, ...]]]  # ('p'|'u', columns) to rebuild on a staging table
    plain_indexes: list[tuple[bool, tuple[str, ...]]]  # (unique, columns) of non-constraint indexes


def ddl(mart: Mart, target: TargetName) -> sql.Composed:
    text = (DDL_DIR / f"{mart.name}.sql").read_text(encoding="utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return sql.SQL(body).format(table=target.sql)


def ensure_target(conn: Any, mart: Mart, target: TargetName) -> bool:
    """Create the schema and the target table from ``sql/postgres/<mart>.sql`` if missing."""
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", (f'"{target.schema}"."{target.table}"',))
        if cur.fetchone()[0]:
            return False
        cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(target.schema)))
        cur.execute(ddl(mart, target))
    conn.commit()
    return True


def inspect_target(conn: Any, target: TargetName) -> Target:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT c.oid, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s", (target.schema, target.table))
        found = cur.fetchone()
        if found is None:
            raise InvalidTarget(f"target table {target} does not exist")
        oid, kind = found
        if kind not in ("r", "p"):
            raise InvalidTarget(f"{target} is not a table")
        cur.execute(
            "SELECT attname, format_type(atttypid, atttypmod), attnotnull, atthasdef FROM pg_attribute "
            "WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped ORDER BY attnum", (oid,))
        columns = {r[0]: TargetColumn(*r) for r in cur.fetchall()}
        partition_column = None
        if kind == "p":
            cur.execute(
                "SELECT p.partstrat, p.partnatts, a.attname FROM pg_partitioned_table p "
                "LEFT JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] "
                "WHERE p.partrelid = %s", (oid,))
            strategy, count, name = cur.fetchone()
            if strategy != "l" or count != 1 or name is None:
                raise InvalidTarget(f"{target} must be LIST-partitioned on one column for partition swaps")
            partition_column = name
        cur.execute(
            "SELECT i.indisunique, i.indisprimary, con.contype, "
            "  array(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(num, ord) "
            "        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num ORDER BY k.ord) "
            "FROM pg_index i LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid "
            "     AND con.conrelid = i.indrelid "
            "WHERE i.indrelid = %s AND i.indexprs IS NULL AND i.indpred IS NULL "
            "      AND NOT (0 = ANY(i.indkey::int2[]))", (oid,))
        unique_keys: list[tuple[str, ...]] = []
        constraints: list[tuple[str, tuple[str, ...]]] = []
        plain: list[tuple[bool, tuple[str, ...]]] = []
        for is_unique, _is_primary, contype, cols in cur.fetchall():
            cols = tuple(cols)
            if is_unique:
                unique_keys.append(cols)
            if contype in ("p", "u"):
                constraints.append((contype, cols))
            elif contype is None:
                plain.append((bool(is_unique), cols))
    return Target(target, oid, columns, partition_column, unique_keys, constraints, plain)


def partition_of(conn: Any, target: Target, child: str) -> bool | None:
    """True if ``schema.child`` is a partition of the target, False if it is another table, None if absent."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT c.oid, EXISTS (SELECT 1 FROM pg_inherits i "
            "                      WHERE i.inhrelid = c.oid AND i.inhparent = %s) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s",
            (target.oid, target.name.schema, child))
        row = cur.fetchone()
    return None if row is None else bool(row[1])


def create_staging(cur: Any, target: Target, stage: str, column: str, value: str, for_swap: bool) -> None:
    """A staging table shaped like the target whose partition column defaults to ``value``.

    Created in the caller's transaction (so that COPY FREEZE applies). For a partition swap it is
    a regular table carrying the partition's CHECK constraint, so that ATTACH PARTITION needs no
    validation scan; otherwise it is UNLOGGED scratch space, dropped before the commit.
    """
    name = target.name.sibling(stage)
    col = sql.Identifier(column)
    cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(name))
    cur.execute(sql.SQL("CREATE {} TABLE {} (LIKE {} INCLUDING DEFAULTS)").format(
        sql.SQL("" if for_swap else "UNLOGGED"), name, target.name.sql))
    cur.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}").format(
        name, col, sql.Literal(value)))
    if for_swap:
        cur.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} CHECK ({} IS NOT NULL AND {} = {})").format(
            name, sql.Identifier("partition_value_check"), col, col, sql.Literal(value)))


def build_staging_keys(cur: Any, target: Target, stage: str) -> None:
    """Rebuild the target's key constraints and plain indexes on the loaded staging table, so that
    ATTACH PARTITION adopts them instead of building them while it holds its locks."""
    name = target.name.sibling(stage)
    for kind, cols in target.constraints:
        cur.execute(sql.SQL("ALTER TABLE {} ADD {} ({})").format(
            name, sql.SQL("PRIMARY KEY" if kind == "p" else "UNIQUE"),
            sql.SQL(", ").join(map(sql.Identifier, cols))))
    for unique, cols in target.plain_indexes:
        cur.execute(sql.SQL("CREATE {} INDEX ON {} ({})").format(
            sql.SQL("UNIQUE" if unique else ""), name, sql.SQL(", ").join(map(sql.Identifier, cols))))
