"""The runner's behaviour with fake Hive and HDFS clients (no services)."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from typing import Any

import pytest

from marts import runner
from marts.catalog import MARTS, get_mart
from marts.config import MartConfig
from marts.gates import GateFailed
from marts.hive import Result
from marts.inputs import MissingInput, check_reference_data, find_partitions
from marts.textable import format_csv, format_table, width
from orchestration import cli
from pilot.dates import Day
from pilot.errors import InvalidInput

CONFIG = MartConfig.from_settings(database="pilot_test")


class FakeHive:
    """Records statements; returns offending rows for one named check."""

    def __init__(self, failing_check: str | None = None, rows: int = 3) -> None:
        self.statements: list[str] = []
        self.failing_check = failing_check
        self.rows = rows

    def execute(self, statement: str) -> None:
        self.statements.append(statement)

    def query(self, statement: str, max_rows: int | None = None) -> Result:
        self.statements.append(statement)
        if statement.startswith("SELECT count(*)"):
            return Result(["row_count"], [(42,)])
        if self.failing_check and f"-- {self.failing_check}" in statement:
            return Result(["car_number", "copies"], [(f"A{i:04d}", 2) for i in range(self.rows)])
        return Result(["x"], [])

    def scalar(self, statement: str) -> Any:
        return self.query(statement).rows[0][0]


def tag_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Prefix each check query with its name so that FakeHive can fail one of them."""
    original = runner.gates.sqlfile.checks

    def tagged(relative: str, params: Any) -> list[Any]:
        return [type(c)(c.name, f"-- {c.name}\n{c.sql}", c.description) for c in original(relative, params)]

    monkeypatch.setattr(runner.gates.sqlfile, "checks", tagged)


def test_build_one_writes_the_audit_table_gates_it_then_publishes() -> None:
    hive = FakeHive()
    lines: list[str] = []
    result = runner.build_one(hive, get_mart("symptom"), CONFIG.params("20200322"), lines.append)  # type: ignore[arg-type]
    assert result.rows == 42 and result.gates == 5
    mart = "pilot_test.managed_smartcar_symptom_info"
    kinds = [" ".join(s.split()[:4]) for s in hive.statements]
    insert = next(i for i, s in enumerate(hive.statements) if s.startswith("INSERT OVERWRITE"))
    assert hive.statements[insert].startswith(f"INSERT OVERWRITE TABLE {mart}__audit PARTITION")
    assert hive.statements[0].startswith(f"CREATE TABLE IF NOT EXISTS {mart} ")
    assert any(s.startswith(f"ALTER TABLE {mart}__audit ADD PARTITION") for s in hive.statements[:insert])
    set_location = next(i for i, s in enumerate(hive.statements)
                        if s.startswith(f"ALTER TABLE {mart} PARTITION") and "SET LOCATION" in s)
    last_check = max(i for i, s in enumerate(hive.statements) if "__audit" in s and s.startswith("SELECT"))
    assert last_check < set_location, kinds  # published only after every gate ran
    assert "42 rows" in lines[-1]


def test_failed_gate_keeps_the_published_partition_and_names_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    tag_checks(monkeypatch)
    hive = FakeHive("one_row_per_car", rows=12)
    lines: list[str] = []
    with pytest.raises(GateFailed) as info:
        runner.build_one(hive, get_mart("emergency"), CONFIG.params("20200322"), lines.append)  # type: ignore[arg-type]
    message = str(info.value)
    assert "managed_smartcar_emergency_check_info.one_row_per_car" in message
    assert "biz_date=20200322" in message and "car_number=A0000, copies=2" in message
    assert "A0009" in message and "A0010" not in message and "(and more)" in message  # at most 10 rows
    mart = "pilot_test.managed_smartcar_emergency_check_info"
    assert f"ALTER TABLE {mart}__audit DROP IF EXISTS PARTITION (biz_date = '20200322')" in hive.statements
    assert not [s for s in hive.statements if s.startswith(f"ALTER TABLE {mart} ")]  # the mart untouched
    assert "published partition is unchanged" in lines[-1]


class FakeHdfs:
    def __init__(self, files: dict[str, list[str]]) -> None:
        self.files = files

    def list(self, path: str, status: bool = False) -> list[Any]:
        from hdfs.util import HdfsError

        if path not in self.files:
            raise HdfsError(f"File {path} does not exist.")
        return [(n, {"type": "FILE", "length": 10}) for n in self.files[path]]


def test_missing_collection_partition_names_path_and_loader() -> None:
    hdfs = FakeHdfs({})
    with pytest.raises(MissingInput) as info:
        find_partitions(hdfs, CONFIG, "20200322", ["smartcar_status_info"])
    message = str(info.value)
    assert "/pilot-pjt/collect/car-batch-log/wrk_date=20200322" in message and "pilot load batch" in message


def test_only_temporary_files_count_as_missing_and_late_partition_is_optional() -> None:
    base = CONFIG.status_dir
    hdfs = FakeHdfs({f"{base}/wrk_date=20200322": ["_tmp.txt", ".part"]})
    with pytest.raises(MissingInput, match="no data files"):
        find_partitions(hdfs, CONFIG, "20200322", ["smartcar_status_info"])
    hdfs = FakeHdfs({f"{base}/wrk_date=20200322": ["a.txt", "_b.tmp"]})
    found = find_partitions(hdfs, CONFIG, "20200322", ["smartcar_status_info"])
    assert [(p.wrk_date, p.files) for p in found] == [("20200322", 1)]
    hdfs.files[f"{base}/wrk_date=20200323"] = ["late.txt"]
    assert len(find_partitions(hdfs, CONFIG, "20200322", ["smartcar_status_info"])) == 2


def test_reference_data_must_exist() -> None:
    with pytest.raises(MissingInput, match=r"CarMaster\.txt"):
        check_reference_data(FakeHdfs({}), CONFIG, Day.parse("20200322"), ["smartcar_master"])
    hdfs = FakeHdfs({CONFIG.buylist_dir: ["CarItemBuyList_202002.txt"]})
    with pytest.raises(MissingInput, match=r"CarItemBuyList_202003\.txt"):
        check_reference_data(hdfs, CONFIG, Day.parse("20200322"), ["smartcar_item_buylist"])


def test_hostile_date_fails_before_any_service_is_touched() -> None:
    class Refuse:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError("no service may be used")

    with pytest.raises(InvalidInput):
        runner.build_marts("20200322'; DROP TABLE x; --", hive=Refuse(), hdfs_client=Refuse())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "argv",
    [
        ["marts", "build", "--date", "20200322'; DROP TABLE x; --"],
        ["marts", "build", "--date", "20200231"],
    ],
)
def test_cli_rejects_hostile_dates(argv: list[str]) -> None:
    err = io.StringIO()
    with redirect_stderr(err), pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    assert "yyyyMMdd" in err.getvalue() or "calendar" in err.getvalue()


def test_cli_rejects_unknown_mart_with_one_line() -> None:
    err = io.StringIO()
    with redirect_stderr(err):
        code = cli.main(["marts", "sql", "--date", "20200322", "--mart", "x; DROP TABLE y"])
    assert code == 1 and err.getvalue().startswith("error: unknown mart")


def test_cli_prints_bound_sql_without_services() -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli.main(
            ["marts", "sql", "--date", "20200322", "--mart", "emergency", "--tire-threshold", "70"]
        )
    assert code == 0 and "PARTITION (biz_date = '20200322')" in out.getvalue() and "< 70.0" in out.getvalue()


def test_cli_registers_marts_sql_and_export() -> None:
    parser = cli.build_parser()
    text = parser.format_help()
    assert "marts" in text and "sql" in text and "export" in text


def test_table_output_aligns_wide_characters() -> None:
    table = format_table(["car_number", "region", "n"], [("A0001", "서울", 3), ("B0002", "x", None)])
    lines = table.splitlines()
    assert len({width(line) for line in lines}) == 1
    assert "NULL" in table
    assert format_csv(["a", "b"], [(1, None), ("x,y", True)]) == 'a,b\n1,\n"x,y",true\n'


def test_every_mart_has_build_and_checks_files() -> None:
    for mart in MARTS:
        assert runner.sqlfile.source_path(mart.build_file).is_file()
        assert runner.sqlfile.source_path(mart.checks_file).is_file()
