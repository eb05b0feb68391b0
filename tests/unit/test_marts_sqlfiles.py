"""The .sql files of sql/hive/: they load, split, bind every placeholder, and refuse raw strings."""

from __future__ import annotations

import pytest

from analysis.exploration import exploration_params
from marts import sqlfile
from marts.catalog import INPUT_FILES, MARTS
from marts.config import MartConfig
from marts.runner import audit_params, partition_params, render_sql
from pilot.settings import Settings
from pilot.sql_values import SqlDate, SqlIdentifier, SqlMonth

PARAMS = MartConfig.from_settings(database="pilot_test").params("20200322")


def all_files() -> list[str]:
    return [p.relative_to(sqlfile.SQL_DIR).as_posix() for p in sqlfile.SQL_DIR.rglob("*.sql")]


# The build parameters plus those of the small statements in ops/ (runner and exporter) and of the
# exploration tables and the model tables (analysis/; a model job binds its rows' view).
OPS_PARAMS = {
    "source_view": SqlIdentifier("source_rows"),
    **exploration_params(MartConfig.from_settings(database="pilot_test"), "20200322", Settings()),
    "table": SqlIdentifier("smartcar_status_info"),
    "wrk_date": SqlDate("20200322"),
    "location": PARAMS["status_location"],
    "partition_column": SqlIdentifier("biz_date"),
    "partition_value": SqlDate("20200322"),
    **{k: v for k, v in audit_params(MARTS[0], PARAMS, "b1").items()
       if k in ("build_table", "audit_root", "audit_location")},
}


def test_every_file_binds_with_the_build_parameters() -> None:
    for relative in all_files():
        text = sqlfile.bind(sqlfile.read_sql(relative), OPS_PARAMS)
        assert "${" not in text, relative
        assert sqlfile.split_statements(text), relative


def test_each_ops_file_is_one_statement() -> None:
    ops = sqlfile.sql_files("ops")
    assert {"describe_table.sql", "describe_partition.sql", "list_partitions.sql"} <= {p.name for p in ops}
    for path in ops:
        relative = path.relative_to(sqlfile.SQL_DIR).as_posix()
        assert len(sqlfile.statements(relative, OPS_PARAMS)) == 1, relative


def test_each_mart_file_creates_its_table_and_overwrites_one_partition() -> None:
    for mart in MARTS:
        statements = sqlfile.statements(mart.build_file, audit_params(mart, PARAMS, "b1"))
        assert len(statements) == 2
        create, insert = statements
        assert create.startswith(f"CREATE TABLE IF NOT EXISTS pilot_test.{mart.name}")
        assert f"PARTITIONED BY ({mart.partition_column} STRING)" in create
        assert "'field.delim' = '\\t'" in create and "STORED AS TEXTFILE" in create
        value = "202003" if mart.monthly else "20200322"
        assert insert.startswith(
            f"INSERT OVERWRITE TABLE pilot_test.{mart.name}__audit "
            f"PARTITION ({mart.partition_column} = '{value}')"
        )
        assert "INSERT INTO" not in insert.upper()


def test_thresholds_reach_the_sql() -> None:
    config = MartConfig.from_settings(
        z_threshold=2.5, sharp_share_threshold=0.25, tire_threshold=75, battery_threshold=20
    )
    symptom = render_sql("20200322", "symptom", config)
    assert "abs(z_speed) > 2.5" in symptom and "share > 0.25" in symptom
    assert "stddev_pop" in symptom
    emergency = render_sql("20200322", "emergency", config)
    assert "fl < 75.0" in emergency and "bat < 20.0" in emergency


def test_checks_files_have_named_queries() -> None:
    for mart in MARTS:
        checks = sqlfile.checks(mart.checks_file, audit_params(mart, PARAMS, "b1"))
        names = {c.name for c in checks}
        assert "null_keys" in names, mart.name
        assert all(c.description for c in checks)
        if mart.number in (3, 4):
            assert "one_row_per_car" in names and "label_domain" in names
        if not mart.may_be_empty:
            assert "not_empty" in names


def test_input_files_define_the_external_tables() -> None:
    text = "\n".join(s for f in INPUT_FILES for s in sqlfile.statements(f, PARAMS))
    for table in ("smartcar_status_info", "smartcar_drive_info", "smartcar_master", "smartcar_item_buylist"):
        assert f"CREATE EXTERNAL TABLE IF NOT EXISTS pilot_test.{table}" in text
    assert "PARTITIONED BY (wrk_date STRING)" in text
    assert "CREATE OR REPLACE VIEW pilot_test.smartcar_master_over18" in text and "age >= 18" in text


def test_bind_refuses_raw_strings_and_unknown_placeholders() -> None:
    with pytest.raises(sqlfile.SqlFileError, match="validated"):
        sqlfile.bind("SELECT '${biz_date}'", {"biz_date": "20200322' OR '1'='1"})  # type: ignore[dict-item]
    with pytest.raises(sqlfile.SqlFileError, match="no value"):
        sqlfile.bind("SELECT '${nope}'", PARAMS)
    with pytest.raises(sqlfile.SqlFileError, match="malformed"):
        sqlfile.bind("SELECT '${Bad-Name}'", PARAMS)
    assert sqlfile.bind("x = '${biz_month}'", {"biz_month": SqlMonth("202003")}) == "x = '202003'"


def test_split_statements_respects_quotes_and_comments() -> None:
    text = "-- a; comment\nSELECT 'a;b' AS x;\nSELECT \"c;d\"; -- trailing; \nSELECT `e;f`\n;"
    assert sqlfile.split_statements(text) == ["SELECT 'a;b' AS x", 'SELECT "c;d"', "SELECT `e;f`"]
    assert sqlfile.split_statements("SELECT '\\';'") == ["SELECT '\\';'"]
    with pytest.raises(sqlfile.SqlFileError):
        sqlfile.split_statements("SELECT 'open")


def test_files_outside_the_folder_are_refused() -> None:
    with pytest.raises(sqlfile.SqlFileError):
        sqlfile.read_sql("../../pyproject.toml")


def test_partition_params_for_the_monthly_mart() -> None:
    params = partition_params(MARTS[4], PARAMS)
    assert (
        params["partition_column"].render() == "biz_month" and params["partition_value"].render() == "202003"
    )
