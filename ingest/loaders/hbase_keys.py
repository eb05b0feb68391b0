"""Row keys of the HBase driving log ``DriverCarInfo`` and the "latest N events of a car" query.

Row key = ``<salt><car_number><reversed timestamp>`` (20 ASCII bytes), for example
``cA000179799677898469`` for car ``A0001`` at ``20200322101530``:

* ``salt``: one hex digit ``0``-``f``, ``crc32(car_number) % 16``. It depends on the car only, so
  every event of a car shares one prefix, while the fleet spreads over 16 key ranges. Pre-split
  the table at ``1``, ``2``, ... ``f`` and writes spread over 16 regions instead of piling onto
  the one that holds "now" (the reason the original pilot put the reversed time first).
* ``car_number``: 5 characters (``A0001``), fixed width, so one car's prefix never matches
  another car's.
* ``reversed timestamp``: ``99999999999999 - yyyyMMddHHmmss``, zero-padded to 14 digits. HBase
  sorts rows by bytes, so within a car the newest event comes first.

So ``scan(row_prefix=salt + car, limit=N)`` returns the car's latest N events, newest first, in
one prefix scan; the same event (car, r_date) always maps to the same row, which makes replays
idempotent (a replayed put overwrites the cell with the same value).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from ingest.records import DRIVE_FIELDS

SALT_BUCKETS = 16
MAX_TIMESTAMP = 99_999_999_999_999
TIMESTAMP_DIGITS = 14
KEY_LENGTH = 1 + 5 + TIMESTAMP_DIGITS
# Split points for pre-splitting the table into SALT_BUCKETS regions (the first region starts at "").
SPLIT_KEYS: tuple[bytes, ...] = tuple(f"{bucket:x}".encode() for bucket in range(1, SALT_BUCKETS))


@lru_cache(maxsize=4096)
def salt(car: str) -> str:
    """The car's bucket: one hex digit, the same for every event of the car, in every process."""
    return f"{zlib.crc32(car.encode('ascii')) % SALT_BUCKETS:x}"


def reverse_timestamp(ts: str) -> str:
    """``99999999999999 - ts`` as 14 digits: later times give smaller strings."""
    if len(ts) != TIMESTAMP_DIGITS or not ts.isdigit():
        raise ValueError(f"timestamp {ts!r} is not yyyyMMddHHmmss")
    return f"{MAX_TIMESTAMP - int(ts):014d}"


def car_prefix(car: str) -> bytes:
    """Row-key prefix of every event of ``car``."""
    return f"{salt(car)}{car}".encode("ascii")


def row_key(car: str, ts: str) -> bytes:
    """Row key of the event of ``car`` at ``ts`` (``yyyyMMddHHmmss``)."""
    return f"{salt(car)}{car}{MAX_TIMESTAMP - int(ts):014d}".encode("ascii")


def timestamp_of(key: bytes) -> str:
    """The event time encoded in a row key (inverse of :func:`row_key` for the time part)."""
    return f"{MAX_TIMESTAMP - int(key[-TIMESTAMP_DIGITS:]):014d}"


def column(family: str, name: str) -> bytes:
    return f"{family}:{name}".encode("ascii")


def decode_row(data: dict[bytes, bytes], family: str) -> dict[str, str]:
    """``{b'cf1:speed': b'88', ...}`` -> ``{'speed': '88', ...}`` in DRIVE_FIELDS order."""
    prefix = f"{family}:".encode("ascii")
    values = {k[len(prefix):].decode(): v.decode() for k, v in data.items() if k.startswith(prefix)}
    return {name: values[name] for name in DRIVE_FIELDS if name in values}


def latest_events(conn: Any, car: str, n: int, table: str | None = None,
                  family: str | None = None) -> list[dict[str, str]]:
    """The latest ``n`` driving events of ``car``, newest first, with one prefix scan.

    ``conn`` is a ``happybase.Connection``; table and family default to the settings.
    """
    if table is None or family is None:
        from pilot.settings import get_settings

        s = get_settings()
        table = table or s.hbase_table
        family = family or s.hbase_family
    rows: Iterator[tuple[bytes, dict[bytes, bytes]]] = conn.table(table).scan(
        row_prefix=car_prefix(car), limit=n)
    return [decode_row(data, family) for _key, data in rows]
