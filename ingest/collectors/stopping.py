"""Graceful stop on SIGTERM/SIGINT: finish the batch, checkpoint, exit 0; a second signal aborts."""

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
    """Set when the collector should stop after its current batch."""

    def __init__(self, event: Any | None = None) -> None:
        self._event = event if event is not None else threading.Event()  # or a multiprocessing.Event
        self.reason = ""

    def set(self, reason: str = "stop requested") -> None:
        self.reason = reason
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True as soon as a stop was requested."""
        return self._event.wait(max(0.0, seconds))


@contextmanager
def stop_on_signals(flag: StopFlag) -> Iterator[StopFlag]:
    """Within the block, SIGTERM/SIGINT set ``flag``; a second one raises KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if flag.is_set():
            raise KeyboardInterrupt(f"second {name}")
        log.warning("%s received: finishing the current batch, then stopping "
                    "(send it again to abort without a checkpoint)", name)
        flag.set(name)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield flag
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
