"""Retry a sink write while its service is away: back off, say what we wait for, never give up early.

A loader must not lose or skip data when HDFS, HBase or Redis is briefly down: it keeps the batch
in memory, retries it with exponential backoff and logs ``waiting for <service> at <address> ...``,
and only commits Kafka offsets once the write went through. A deadline (bounded mode) turns a
long outage into one readable :class:`ServiceUnavailable` error instead of a stack trace.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from ingest.stopping import StopFlag
from pilot.errors import ServiceUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    first: float = 0.5
    factor: float = 2.0
    ceiling: float = 10.0
    # Give up after this many seconds of failures (None: retry for ever, the service mode).
    timeout: float | None = None


NO_DEADLINE = Backoff()


def with_retry(
    action: Callable[[], T],
    service: str,
    address: str,
    retry_on: tuple[type[BaseException], ...],
    backoff: Backoff | None = None,
    on_failure: Callable[[BaseException], None] | None = None,
    stop: StopFlag | None = None,
    say: Callable[[str], None] = log.warning,
) -> T:
    """Run ``action`` until it succeeds; between failures call ``on_failure`` (reconnect) and wait.

    ``stop`` does not abandon the write (that would lose data); it only shortens the waits.
    """
    backoff = backoff or NO_DEADLINE
    delay = backoff.first
    started = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        try:
            result = action()
        except retry_on as exc:
            waited = time.monotonic() - started
            if backoff.timeout is not None and waited + delay > backoff.timeout:
                raise ServiceUnavailable(service, address, f"{type(exc).__name__}: {exc}") from exc
            say(f"waiting for {service} at {address} (attempt {attempt}, {waited:.0f} s so far, "
                f"next try in {delay:.1f} s): {type(exc).__name__}: {str(exc)[:200]}")
            if on_failure is not None:
                try:
                    on_failure(exc)
                except retry_on as again:  # reconnecting failed too: try again after the wait
                    log.debug("reconnect to %s failed: %s", service, again)
            if stop is not None and stop.is_set():
                time.sleep(min(delay, 1.0))
            else:
                time.sleep(delay)
            delay = min(delay * backoff.factor, backoff.ceiling)
            continue
        if attempt > 1:
            say(f"{service} at {address} is back after {time.monotonic() - started:.1f} s; resuming")
        return result
