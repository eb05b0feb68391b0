from __future__ import annotations

from types import SimpleNamespace

import pytest
from smartcar_plugins.operators import HdfsPartitionSensor, HiveMartOperator, MartExportOperator


def test_mart_operator_builds_the_one_mart_of_its_date(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fake_build(date, names, log):
        calls.append((date, names))
        return [SimpleNamespace(mart=names[0], partition=f"biz_date={date}", rows=7, gates=3)]

    import marts.runner

    monkeypatch.setattr(marts.runner, "build_marts", fake_build)
    op = HiveMartOperator(task_id="t", mart="managed_smartcar_symptom_info", biz_date="20200322")
    assert "biz_date" in op.template_fields
    result = op.execute({})
    assert calls == [("20200322", ["managed_smartcar_symptom_info"])]
    expected = {"partition": "biz_date=20200322", "rows": 7, "gates": 3}
    assert result == {"managed_smartcar_symptom_info": expected}


@pytest.mark.parametrize(("mart", "expected"), [("managed_smartcar_status_info", "20200322"),
                                                ("managed_smartcar_item_buylist_info", "202003")])
def test_export_operator_exports_the_partition(monkeypatch: pytest.MonkeyPatch, mart: str,
                                               expected: str) -> None:
    seen = []

    def fake_export(request, log):
        seen.append(request)
        return SimpleNamespace(target="public.x", partition=request.biz_date, rows=5)

    import export.runner

    monkeypatch.setattr(export.runner, "run_export", fake_export)
    op = MartExportOperator(task_id="e", mart=mart, biz_date="20200322", update_key="biz_date,car_number")
    assert op.execute({}) == {"target": "public.x", "partition": expected, "rows": 5}
    assert seen[0].mart == mart and seen[0].biz_date == expected
    assert seen[0].update_key == "biz_date,car_number"


def test_partition_sensor_ignores_temporary_files(monkeypatch: pytest.MonkeyPatch) -> None:
    import hdfs

    listing: dict[str, list[str]] = {"/p/wrk_date=20200322": ["_status-p0.tmp", ".x"]}

    class FakeClient:
        def __init__(self, *a: object, **k: object) -> None:
            pass

        def list(self, path: str) -> list[str]:
            if path not in listing:
                raise hdfs.util.HdfsError("File does not exist")
            return listing[path]

    monkeypatch.setattr(hdfs, "InsecureClient", FakeClient)
    sensor = HdfsPartitionSensor(task_id="s", path="/p/wrk_date=20200322")
    assert sensor.poke({}) is False
    listing["/p/wrk_date=20200322"].append("status-p0-000000000000-000000000099.txt")
    assert sensor.poke({}) is True
    assert HdfsPartitionSensor(task_id="s2", path="/p/missing").poke({}) is False
