"""HBase keeps its tables and WAL on the stack's HDFS: rows it acknowledged survive a kill -9."""

from __future__ import annotations

import os
import signal
import time
import uuid

from pilot.settings import Settings
from stack import manager
from stack.process import running_pid
from stack.services import hbase


def test_acknowledged_rows_survive_a_kill_of_hbase(stack: Settings) -> None:
    rows = {f"it-durable-{uuid.uuid4().hex[:8]}-{i:04d}".encode(): {b"cf1:v": str(i).encode()}
            for i in range(500)}
    with hbase.connection(stack) as conn:
        table = conn.table(stack.hbase_table)
        with table.batch() as batch:  # returns when the regionserver acknowledged every put
            for key, data in rows.items():
                batch.put(key, data)

    for svc in (hbase.THRIFT, hbase.MASTER):  # no flush: the rows are only in the memstore and WAL
        pid = running_pid(svc.pid_file(stack))
        assert pid is not None, f"{svc.name} is not running"
        os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while any(running_pid(svc.pid_file(stack)) for svc in (hbase.THRIFT, hbase.MASTER)):
        assert time.monotonic() < deadline, "HBase did not die"
        time.sleep(0.5)

    manager.up(stack)  # what `pilot stack up` does: restart what is down; the WAL is replayed
    with hbase.connection(stack) as conn:
        table = conn.table(stack.hbase_table)
        found = dict(table.rows(list(rows)))
        assert found == rows
        with table.batch() as batch:
            for key in rows:
                batch.delete(key)
