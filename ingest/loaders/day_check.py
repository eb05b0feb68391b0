"""Does the real-time side hold a whole day? HBase rows and Redis window progress against the producer.

When the always-on stream loader, not a bounded run of the pipeline, writes a day into HBase and
Redis, the pipeline has no loader report to trust; it checks the stores instead:

* HBase: the rows of the day, counted per car with one key-only range scan each (the day's rows
  of a car are one contiguous key range: salt + car + reversed time), equal the events the
  producer committed for the day (its collect-ledger entry);
* Redis: every car's overspeed windows are closed through the window of its newest event that
  day (the loader's window progress hash), so every alert of the day is decided.

:func:`wait_for_day` polls the cheap Redis side until it is complete and the newest events stop
changing, then counts HBase; a count that stays short, or a day that does not settle in time, is
one readable error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ingest.loaders.hbase_keys import car_prefix, reverse_timestamp
from ingest.loaders.redis_sink import closed_key
from ingest.loaders.windows import event_seconds, label, window_start
from pilot.errors import PilotError

log = logging.getLogger(__name__)
KEY_ONLY = b"FirstKeyOnlyFilter() AND KeyOnlyFilter()"


def day_range(car: str, day: str) -> tuple[bytes, bytes]:
    """Row-key range [start, stop) of ``car``'s events on ``day`` (newest first)."""
    prefix = car_prefix(car)
    return (prefix + reverse_timestamp(f"{day}235959").encode(),
            prefix + reverse_timestamp(f"{day}000000").encode() + b"\x00")


def newest_events(table: Any, cars: list[str], day: str) -> dict[str, str]:
    """Each car's newest event time on ``day`` (cars without events that day are left out)."""
    newest = {}
    for car in cars:
        start, stop = day_range(car, day)
        for key, _ in table.scan(row_start=start, row_stop=stop, limit=1, filter=KEY_ONLY):
            newest[car] = f"{99_999_999_999_999 - int(key[-14:]):014d}"
    return newest


def count_rows(table: Any, cars: list[str], day: str) -> int:
    total = 0
    for car in cars:
        start, stop = day_range(car, day)
        total += sum(1 for _ in table.scan(row_start=start, row_stop=stop, batch_size=10_000,
                                           filter=KEY_ONLY))
    return total


def open_cars(closed_through: dict[str, str], newest: dict[str, str], window_seconds: int) -> list[str]:
    """Cars whose window of their newest event is not closed yet (its alert not decided)."""
    return sorted(car for car, ts in newest.items()
                  if closed_through.get(car, "") < label(window_start(event_seconds(ts), window_seconds)))


@dataclass
class DayInStores:
    day: str
    expected_rows: int
    hbase_rows: int | None = None
    cars_with_events: int = 0
    cars_not_closed: list[str] = field(default_factory=list)
    alerts: int = 0
    waited_seconds: float = 0.0

    @property
    def complete(self) -> bool:
        return self.hbase_rows == self.expected_rows and not self.cars_not_closed

    def as_dict(self) -> dict[str, Any]:
        return {"day": self.day, "expected_rows": self.expected_rows, "hbase_rows": self.hbase_rows,
                "cars": self.cars_with_events, "cars_not_closed": len(self.cars_not_closed),
                "alerts": self.alerts, "waited_seconds": round(self.waited_seconds, 1)}


def wait_for_day(table: Any, redis_client: Any, group: str, cars: list[str], day: str, expected_rows: int,
                 window_seconds: int, timeout: float, poll: float = 2.0,
                 sleep: Callable[[float], None] = time.sleep) -> DayInStores:
    """Wait until HBase and Redis hold the whole day, or raise :class:`PilotError` after ``timeout``."""
    started = time.monotonic()
    state = DayInStores(day, expected_rows)
    previous: dict[str, str] | None = None
    while True:
        newest = newest_events(table, cars, day)
        closed = redis_client.hgetall(closed_key(group, day))
        closed = {_text(k): _text(v) for k, v in closed.items()}
        state.cars_with_events = len(newest)
        state.cars_not_closed = open_cars(closed, newest, window_seconds)
        settled = newest == previous and not state.cars_not_closed
        if settled:
            state.hbase_rows = count_rows(table, cars, day)
            if state.hbase_rows == expected_rows:
                state.alerts = int(redis_client.scard(day))
                state.waited_seconds = time.monotonic() - started
                return state
            if state.hbase_rows > expected_rows:
                raise PilotError(
                    f"HBase holds {state.hbase_rows:,} rows of {day} for these cars, more than the "
                    f"{expected_rows:,} events the producer committed: another fleet or seed of the "
                    f"same day was loaded too")
        previous = newest
        waited = time.monotonic() - started
        if waited > timeout:
            raise PilotError(
                f"the real-time stores do not hold the whole day {day} after {waited:.0f} s: HBase "
                f"{'not counted' if state.hbase_rows is None else f'{state.hbase_rows:,}'} of "
                f"{expected_rows:,} rows, {len(state.cars_not_closed)} car(s) with open windows "
                f"(e.g. {', '.join(state.cars_not_closed[:3]) or '-'}); is the stream loader "
                f"running? (`pilot stream status`)")
        log.info("waiting for the stream loader to finish day %s: %d car(s) with open windows, HBase %s",
                 day, len(state.cars_not_closed),
                 "not counted yet" if state.hbase_rows is None else f"{state.hbase_rows:,}/{expected_rows:,}")
        sleep(poll)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
