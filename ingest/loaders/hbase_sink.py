"""Batched puts into ``DriverCarInfo`` through HBase Thrift v1, one column per field, with retries.

Puts go straight to the Thrift client's ``mutateRows`` (what ``happybase`` ``Batch.send`` does),
a few thousand rows per call. ``Mutation`` objects are immutable once built, so the ones for a
(column, value) pair are cached: most fields have a handful of values (pedal steps, codes, speed,
area), which removes most per-event object construction.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ingest.closing import Closing
from ingest.loaders.hbase_keys import column, row_key
from ingest.loaders.retry import NO_DEADLINE, Backoff, with_retry
from ingest.records import DRIVE_FIELDS
from ingest.stopping import StopFlag
from pilot.errors import PilotError
from pilot.settings import Settings

log = logging.getLogger(__name__)


def retry_errors() -> tuple[type[BaseException], ...]:
    from thriftpy2.thrift import TException

    return (TException, OSError, EOFError)


class MissingTable(PilotError):
    """The table is not there: waiting would not bring it back."""

    def __init__(self, table: str, address: str) -> None:
        super().__init__(f"HBase ({address}) has no table {table}: create it with "
                         f"`pilot stack bootstrap hbase-thrift` (or `pilot stack up`)")


class MutationCache:
    """``fields -> BatchMutation`` with cached ``Mutation`` objects.

    Three lookups per row: the r_date mutation (shared by every car at that second), the
    car_number mutation, and the list for the six low-cardinality fields as one tuple key.
    """

    def __init__(self, family: str, cap: int = 200_000) -> None:
        import happybase  # noqa: F401 - its import generates the Hbase_thrift module
        from Hbase_thrift import BatchMutation, Mutation

        self._batch = BatchMutation
        self._mutation = Mutation
        self.columns = [column(family, name) for name in DRIVE_FIELDS]
        self.cache: list[dict[str, Any]] = [{} for _ in DRIVE_FIELDS]
        self.tails: dict[tuple[str, ...], list[Any]] = {}
        self.cap = cap

    def _get(self, index: int, value: str) -> Any:
        cache = self.cache[index]
        found = cache.get(value)
        if found is None:
            if len(cache) >= self.cap:
                cache.clear()
            found = cache[value] = self._mutation(isDelete=False, column=self.columns[index],
                                                  value=value.encode("ascii"), writeToWAL=True)
        return found

    def row(self, fields: Sequence[str]) -> Any:
        ts, car = fields[0], fields[1]
        rest = tuple(fields[2:])
        tail = self.tails.get(rest)
        if tail is None:
            if len(self.tails) >= self.cap:
                self.tails.clear()
            tail = self.tails[rest] = [self._get(i, v) for i, v in enumerate(rest, start=2)]
        ts_cache = self.cache[0]
        first = ts_cache.get(ts) or self._get(0, ts)
        second = self.cache[1].get(car) or self._get(1, car)
        return self._batch(row_key(car, ts), [first, second, *tail])


class HBaseSink(Closing):
    """Puts into the table; ``with HBaseSink(...) as sink:`` closes the connection at the end."""

    def __init__(self, s: Settings, backoff: Backoff = NO_DEADLINE, stop: StopFlag | None = None,
                 rows_per_call: int = 2000) -> None:
        self.host, self.port = s.hbase_host, s.hbase_thrift_port
        self.address = f"{self.host}:{self.port}"
        self.table = s.hbase_table.encode()
        self.family = s.hbase_family
        self.backoff = backoff
        self.stop = stop
        self.rows_per_call = rows_per_call
        self.errors = retry_errors()
        self.conn: Any = None
        self.rows = 0

    def connect(self) -> None:
        import happybase

        self.close()
        self.conn = happybase.Connection(self.host, self.port, timeout=30_000)
        self.conn.open()

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:  # closing a broken connection
                log.debug("closing HBase connection failed", exc_info=True)
            self.conn = None

    def ensure_connected(self) -> None:
        if self.conn is None:
            with_retry(self.connect, "HBase Thrift", self.address, self.errors, self.backoff,
                       stop=self.stop)

    def send(self, mutations: list[Any]) -> None:
        """Put every row; retried as a whole (puts are idempotent) until HBase accepts them."""
        if not mutations:
            return
        self.ensure_connected()

        def run() -> None:
            if self.conn is None:
                self.connect()
            client = self.conn.client
            step = self.rows_per_call
            for start in range(0, len(mutations), step):
                try:
                    client.mutateRows(self.table, mutations[start:start + step], {})
                except self.errors as exc:
                    if "TableNotFoundException" in str(getattr(exc, "message", "") or exc):
                        raise MissingTable(self.table.decode(), self.address) from None
                    raise

        def broken(exc: BaseException) -> None:
            self.close()
            self.connect()

        with_retry(run, "HBase Thrift", self.address, self.errors, self.backoff, on_failure=broken,
                   stop=self.stop)
        self.rows += len(mutations)
