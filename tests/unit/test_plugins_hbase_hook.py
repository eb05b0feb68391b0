from __future__ import annotations

import json

import pytest
from smartcar_plugins.hbase_hook import HBaseHook


@pytest.fixture
def hbase_conn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_HBASE_TEST", json.dumps(
        {"conn_type": "hbase", "host": "hbase.example", "port": 19090,
         "extra": {"table": "T1", "timeout_ms": 1234, "transport": "framed"}}))


def test_connection_kwargs_come_from_the_airflow_connection(hbase_conn: None) -> None:
    hook = HBaseHook("hbase_test")
    assert hook.connection_kwargs() == {"host": "hbase.example", "port": 19090, "timeout": 1234,
                                        "transport": "framed", "protocol": "binary", "autoconnect": True}
    assert hook.default_table() == "T1"


def test_test_connection_reports_failure_as_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_HBASE_TEST", json.dumps(
        {"conn_type": "hbase", "host": "127.0.0.1", "port": 1, "extra": {"timeout_ms": 500}}))
    ok, message = HBaseHook("hbase_test").test_connection()
    assert ok is False
    assert "HBase Thrift not reachable" in message


def test_get_conn_is_cached_and_closed(hbase_conn: None, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[dict] = []

    class FakeConnection:
        def __init__(self, **kw: object) -> None:
            made.append(kw)
            self.closed = False

        def close(self) -> None:
            self.closed = True

    import happybase

    monkeypatch.setattr(happybase, "Connection", FakeConnection)
    hook = HBaseHook("hbase_test")
    first = hook.get_conn()
    assert hook.get_conn() is first
    hook.close()
    assert first.closed and len(made) == 1
