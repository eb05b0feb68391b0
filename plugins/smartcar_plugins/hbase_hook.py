"""An Airflow hook for HBase through its Thrift v1 gateway (happybase); no provider exists."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseHook


class HBaseHook(BaseHook):
    """Connection `hbase_default` (type `hbase`): host, port (Thrift, 9090) and extras
    `table`, `family`, `timeout_ms`, `transport` (buffered|framed), `protocol` (binary|compact)."""

    conn_name_attr = "hbase_conn_id"
    default_conn_name = "hbase_default"
    conn_type = "hbase"
    hook_name = "HBase (Thrift v1)"

    def __init__(self, hbase_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.hbase_conn_id = hbase_conn_id
        self._conn: Any = None

    def connection_kwargs(self) -> dict[str, Any]:
        conn = self.get_connection(self.hbase_conn_id)
        extra = conn.extra_dejson
        return {
            "host": conn.host or "127.0.0.1",
            "port": int(conn.port or 9090),
            "timeout": int(extra.get("timeout_ms", 30000)),
            "transport": extra.get("transport", "buffered"),
            "protocol": extra.get("protocol", "binary"),
            "autoconnect": True,
        }

    def get_conn(self) -> Any:
        import happybase

        if self._conn is None:
            self._conn = happybase.Connection(**self.connection_kwargs())
        return self._conn

    def default_table(self) -> str:
        return self.get_connection(self.hbase_conn_id).extra_dejson.get("table", "DriverCarInfo")

    def table(self, name: str | None = None) -> Any:
        return self.get_conn().table(name or self.default_table())

    def count_rows(self, table: str | None = None, row_prefix: bytes | None = None) -> int:
        """Rows of a table (or of one prefix), scanning keys only."""
        scan = self.table(table).scan(row_prefix=row_prefix, batch_size=5000,
                                      filter=b"FirstKeyOnlyFilter() AND KeyOnlyFilter()")
        return sum(1 for _ in scan)

    def test_connection(self) -> tuple[bool, str]:
        try:
            tables = self.get_conn().tables()
        except Exception as exc:
            return False, f"HBase Thrift not reachable: {exc}"
        return True, f"connected; tables: {', '.join(t.decode() for t in tables)}"

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
