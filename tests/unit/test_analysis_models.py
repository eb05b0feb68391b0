"""The analysis jobs without services: scoring rules, the spark-submit command, the SQL adapter."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from analysis.classify import FEATURES, scores
from analysis.model_tables import EXPORTED, MODEL_TABLES, WRITTEN_BY
from analysis.recommend import precision_at_k
from analysis.spark_sql import SparkSqlSession
from analysis.spark_submit import JOB_FILE, job_env, settings_env, submit_command
from analysis.style import held_out
from analysis.training import JOBS
from marts import sqlfile
from marts.hive import HiveQueryError
from pilot.settings import load_settings


@pytest.fixture
def settings(tmp_path: Path):
    return load_settings({"PILOT_VAR_DIR": str(tmp_path / "var")}, env_file=tmp_path / ".env")


def test_precision_counts_recommendations_naming_a_favourite() -> None:
    favourites = {"A0001": ["Item-001", "Item-002", "Item-003"], "A0002": ["Item-009"]}
    recommended = [("A0001", "Item-001"), ("A0001", "Item-004"), ("A0002", "Item-009"), ("A0002", "Item-001")]
    assert precision_at_k(recommended, favourites) == 0.5
    assert precision_at_k([], favourites) == 0.0
    assert precision_at_k([("Z0001", "Item-001")], favourites) == 0.0  # a car without known taste


def test_classifier_scores_from_the_confusion_matrix() -> None:
    got = scores({"tp": 8, "fp": 2, "fn": 4, "tn": 86})
    assert got["accuracy"] == pytest.approx(0.94)
    assert got["precision"] == pytest.approx(0.8) and got["recall"] == pytest.approx(8 / 12)
    assert got["f1"] == pytest.approx(2 * 0.8 * (8 / 12) / (0.8 + 8 / 12))
    assert scores({"tp": 0, "fp": 0, "fn": 0, "tn": 5}) == {"accuracy": 1.0, "precision": 0.0, "recall": 0.0,
                                                          "f1": 0.0}


def test_the_classifier_uses_the_fourteen_features_of_the_domain() -> None:
    assert len(FEATURES) == len(set(FEATURES)) == 14
    assert set(FEATURES) == {"car_capacity", "car_year", "car_model", "tire_fl", "tire_fr", "tire_bl",
                             "tire_br", "light_fl", "light_fr", "light_bl", "light_br", "engine", "break",
                             "battery"}


def test_every_model_table_has_its_sql_its_gates_and_its_writer() -> None:
    for table in MODEL_TABLES:
        assert sqlfile.source_path(table.build_file).is_file(), table.name
        assert sqlfile.source_path(table.checks_file).is_file(), table.name
        assert set(WRITTEN_BY[table.name]) <= set(JOBS), table.name
    for table in EXPORTED:
        assert (sqlfile.SQL_DIR.parent / "postgres" / f"{table.name}.sql").is_file(), table.name


def test_submit_command_runs_the_job_file_with_the_settings_master_heap_and_driver(settings) -> None:
    s = dataclasses.replace(settings, spark_master="spark://cluster:7077", heap_spark_job="3g")
    command = submit_command(s, "cluster", ["--date", "20200322"], s.path("conf", "spark-jobs"))
    assert command[command.index("--master") + 1] == "spark://cluster:7077"
    assert command[command.index("--driver-memory") + 1] == "3g"
    assert "postgresql" in command[command.index("--driver-class-path") + 1]
    assert command[-4:] == [str(JOB_FILE), "cluster", "--date", "20200322"]


def test_the_job_sees_the_same_settings_through_its_environment(settings, tmp_path: Path) -> None:
    s = dataclasses.replace(settings, hive_database="elsewhere", managed_services=("postgres", "redis"))
    again = load_settings(settings_env(s), env_file=tmp_path / "none.env")
    assert again == s
    env = job_env(s, tmp_path)
    assert env["SPARK_CONF_DIR"] == str(tmp_path) and env["PYSPARK_PYTHON"].endswith("python")


class _FailingSpark:
    def sql(self, statement: str):
        raise RuntimeError("[TABLE_OR_VIEW_NOT_FOUND] The table or view `x` cannot be found.")


def test_spark_errors_arrive_as_hive_query_errors_naming_the_statement() -> None:
    session = SparkSqlSession(_FailingSpark())
    with pytest.raises(HiveQueryError, match=r"SHOW PARTITIONS x.*TABLE_OR_VIEW_NOT_FOUND"):
        session.query("SHOW PARTITIONS x")


def test_held_out_cars_are_a_stable_third_and_never_none() -> None:
    cars = [f"A{n:04d}" for n in range(1, 101)]
    test = held_out(cars)
    assert len(test) == 30 and set(test) <= set(cars) and held_out(list(reversed(cars))) == test
    assert len(held_out(cars[:2])) == 1 and len(held_out(cars[:5])) == 2
