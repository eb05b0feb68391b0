"""The ticker every stage uses for progress lines, and the shared graceful stop on signals."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from ingest.progress import Ticker
from ingest.stopping import StopFlag, as_stop_flag, stop_on_signals


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_ticker_is_due_every_few_seconds_with_overall_and_recent_rates() -> None:
    clock = Clock()
    ticker = Ticker(5.0, clock)
    clock.now += 4.9
    assert ticker.due(490) is None
    clock.now += 0.1
    tick = ticker.due(500)
    assert tick is not None
    assert (tick.elapsed, tick.count, tick.rate, tick.recent) == pytest.approx((5.0, 500, 100.0, 100.0))
    clock.now += 1.0
    assert ticker.due(600) is None  # the next line is 5 s after this one
    clock.now += 4.0
    tick = ticker.due(2500)
    assert tick is not None
    assert (tick.elapsed, tick.rate, tick.recent) == pytest.approx((10.0, 250.0, 400.0))


def test_ticker_with_no_interval_is_never_due() -> None:
    clock = Clock()
    ticker = Ticker(0, clock)
    clock.now += 1000
    assert ticker.due(1) is None


def test_stop_flag_wraps_an_event() -> None:
    event = threading.Event()
    flag = as_stop_flag(event)
    event.set()
    assert flag.is_set() and flag.wait(0)
    assert as_stop_flag(flag) is flag
    assert not as_stop_flag(None).is_set()


def test_first_signal_stops_gracefully_second_aborts_then_handlers_are_restored() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with stop_on_signals() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.is_set() and stop.reason == "SIGTERM"
        with pytest.raises(KeyboardInterrupt, match="second SIGINT"):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_flag_set_by_another_process_does_not_make_the_first_signal_an_abort() -> None:
    shared = threading.Event()
    shared.set()  # e.g. the parent of a live producer worker already asked to stop
    with stop_on_signals(StopFlag(shared)) as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.is_set()
