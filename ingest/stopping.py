"""Graceful stop on SIGTERM/SIGINT, for every long-running stage (collectors, loaders).

The first signal sets a :class:`StopFlag`: the stage finishes its current batch, checkpoints or
commits it and returns normally. A second signal raises KeyboardInterrupt: abort at once.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

log = logging.getLogger(__name__)


class StopFlag:
    """Set when a stage should stop after its current batch."""

    def __init__(self, event: Any | None = None) -> None:
        # a threading.Event, or a multiprocessing.Event shared with worker processes
        self._event = event if event is not None else threading.Event()
        self.reason = ""

    def set(self, reason: str = "stop requested") -> None:
        self.reason = reason
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True as soon as a stop was requested."""
        return self._event.wait(max(0.0, seconds))


def as_stop_flag(stop: StopFlag | Any | None) -> StopFlag:
    """``stop`` as a :class:`StopFlag`: a new one for None, an event (``threading.Event``) wrapped."""
    if isinstance(stop, StopFlag):
        return stop
    return StopFlag(stop)


@contextmanager
def stop_on_signals(flag: StopFlag | None = None) -> Iterator[StopFlag]:
    """Within the block, SIGTERM/SIGINT set ``flag``; a second one raises KeyboardInterrupt.

    "Second" counts the signals this process received: a flag shared with other processes (a
    ``multiprocessing.Event``) may already be set by them.

    Off the main thread (where Python cannot install handlers) the flag is yielded unchanged.
    """
    flag = flag if flag is not None else StopFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    received: list[str] = []  # this process's own signals: the flag may be shared with others

    def handler(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if received:
            raise KeyboardInterrupt(f"second {name}")
        received.append(name)
        log.warning("%s received: finishing the current batch, then stopping "
                    "(send it again to abort without a checkpoint or commit)", name)
        flag.set(name)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield flag
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
