"""Validating an export request and matching source columns to the target, before any work."""

from __future__ import annotations

from dataclasses import dataclass

from export.codec import FieldSpec
from export.splits import MIN_SPLIT_BYTES
from export.target import InvalidTarget, Target, TargetName, column_list, identifier
from export.types import ConversionError
from marts.catalog import Mart, get_mart
from pilot.dates import Day, Month
from pilot.errors import InvalidInput
from pilot.sql_values import SqlLocation

MAX_SPLITS = 32


@dataclass(frozen=True)
class ExportRequest:
    mart: str | Mart  # a mart's name or alias, or the definition of another partitioned table (analysis)
    target: str | None = None  # SCHEMA.TABLE; default public.<mart without managed_>
    biz_date: str | None = None  # yyyyMMdd (or yyyyMM for the monthly mart); default: latest partition
    update_key: str | None = None  # comma-separated columns: upsert instead of replacing the date
    columns: str | None = None  # comma-separated subset of the mart's columns
    splits: int = 4
    skip_bad_rows: bool = False
    export_dir: str | None = None  # read this HDFS folder instead of the partition's location
    database: str | None = None  # Hive database of the marts
    min_split_bytes: int = MIN_SPLIT_BYTES  # a split reads at least this much (tests lower it)


@dataclass(frozen=True)
class ValidRequest:
    mart: Mart
    target: TargetName
    partition_value: str | None  # digits: yyyyMMdd or yyyyMM
    update_key: list[str] | None
    columns: list[str] | None
    splits: int
    skip_bad_rows: bool
    export_dir: str | None
    database: str
    min_split_bytes: int


def default_target(mart: Mart) -> str:
    return f"public.{mart.name.removeprefix('managed_')}"


def partition_value(mart: Mart, text: str | None) -> str | None:
    if text is None:
        return None
    if mart.monthly and len(text) != 8:
        return Month.parse(text, "biz month").text
    return mart.partition_of(Day.parse(text, "biz date"))


def validate(request: ExportRequest, default_database: str) -> ValidRequest:
    """Every user-supplied value checked; raises before any connection is made."""
    mart = request.mart if isinstance(request.mart, Mart) else get_mart(request.mart)
    splits = request.splits
    if isinstance(splits, bool) or not isinstance(splits, int) or not 1 <= splits <= MAX_SPLITS:
        raise InvalidInput(f"splits must be 1..{MAX_SPLITS}, got {request.splits!r}")
    export_dir = SqlLocation(request.export_dir).value if request.export_dir else None
    if export_dir and request.biz_date is None:
        raise InvalidInput("--export-dir needs --biz-date (the partition the files belong to)")
    return ValidRequest(
        mart=mart,
        target=TargetName.parse(request.target or default_target(mart)),
        partition_value=partition_value(mart, request.biz_date),
        update_key=column_list(request.update_key, "update-key column"),
        columns=column_list(request.columns, "column"),
        splits=request.splits,
        skip_bad_rows=bool(request.skip_bad_rows),
        export_dir=export_dir,
        database=identifier(request.database or default_database, "Hive database"),
        min_split_bytes=max(1, int(request.min_split_bytes)),
    )


@dataclass(frozen=True)
class ColumnPlan:
    export_columns: list[str]  # in file order of the selection
    selection: list[int]  # indices into the source columns
    fields: list[FieldSpec]
    partition_column: str
    partition_literal: str  # the partition value converted to the target column's type
    mode: str  # swap | replace | upsert
    update_key: list[str] | None


def plan_columns(request: ValidRequest, source_columns: list[str], target: Target, value: str) -> ColumnPlan:
    mart = request.mart
    wanted = request.columns or list(source_columns)
    unknown = [c for c in wanted if c not in source_columns]
    if unknown:
        raise InvalidTarget(
            f"{', '.join(unknown)} not among the columns of {mart.name}: {', '.join(source_columns)}")
    missing = [c for c in wanted if c not in target.columns]
    if missing:
        raise InvalidTarget(
            f"target {target.name} has no column {', '.join(missing)}; pass --columns to export a subset")
    pcol = mart.partition_column
    if pcol not in target.columns:
        raise InvalidTarget(f"target {target.name} needs the partition column {pcol}")
    required = [c.name for c in target.columns.values()
                if c.not_null and not c.has_default and c.name not in wanted and c.name != pcol]
    if required:
        raise InvalidTarget(
            f"target {target.name} requires NOT NULL column(s) {', '.join(required)}: add them to --columns")
    selection = [source_columns.index(c) for c in wanted]
    fields = [FieldSpec(c, target.columns[c].type, not target.columns[c].not_null) for c in wanted]
    try:
        literal = target.columns[pcol].type.converter()(value)
    except ConversionError as exc:
        raise InvalidTarget(f"partition value {value} does not fit {target.name}.{pcol}: {exc}") from None
    mode = _mode(request, target, pcol, wanted)
    return ColumnPlan(wanted, selection, fields, pcol, literal, mode, request.update_key)


def _mode(request: ValidRequest, target: Target, pcol: str, wanted: list[str]) -> str:
    if request.update_key:
        key = request.update_key
        outside = [c for c in key if c not in wanted and c != pcol]
        if outside:
            raise InvalidTarget(f"update key column(s) {', '.join(outside)} are not exported")
        if not any(set(k) == set(key) for k in target.unique_keys):
            raise InvalidTarget(
                f"--update-key {','.join(key)} needs a primary key or unique index on exactly those columns "
                f"of {target.name} (it has: {'; '.join(','.join(k) for k in target.unique_keys) or 'none'})")
        return "upsert"
    if target.partition_column is None:
        return "replace"
    if target.partition_column != pcol:
        raise InvalidTarget(f"{target.name} is partitioned on {target.partition_column}, not {pcol}")
    return "swap"

