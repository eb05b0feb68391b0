"""Runs the split workers and feeds their converted chunks to one COPY as a file-like object."""

from __future__ import annotations

import contextlib
import multiprocessing
import queue as queue_module
import time
from collections.abc import Callable
from typing import Any

from export.worker import SplitOutcome, SplitTask, run_split
from pilot.errors import PilotError

Log = Callable[[str], None]
PROGRESS_SECONDS = 5.0
QUEUE_PER_WORKER = 4  # chunks of about 1 MB in flight per worker


class SplitFailed(PilotError):
    """A worker reported bad rows (strict mode) or an error; the COPY must stop."""

    def __init__(self, outcome: SplitOutcome) -> None:
        self.outcome = outcome
        super().__init__(outcome.error or f"{outcome.bad_count} row(s) do not convert")


class SplitFeed:
    """Start one process per task; ``read()`` returns their converted chunks in arrival order.

    Processes are spawned (not forked), so callers running this from a script need the usual
    ``if __name__ == "__main__":`` guard.
    """

    def __init__(self, tasks: list[SplitTask], total_bytes: int, log: Log) -> None:
        context = multiprocessing.get_context("spawn")
        self.queue: Any = context.Queue(maxsize=QUEUE_PER_WORKER * max(len(tasks), 1))
        self.stop: Any = context.Event()
        self.outcomes: dict[int, SplitOutcome] = {}
        self.failure: SplitOutcome | None = None
        self.bytes_sent = 0
        self._log = log
        self._total = total_bytes
        self._started = time.perf_counter()
        self._last_report = self._started
        self._processes = {
            task.index: context.Process(target=run_split, args=(task, self.queue, self.stop), daemon=True)
            for task in tasks
        }
        for process in self._processes.values():
            process.start()

    @property
    def pending(self) -> int:
        return len(self._processes) - len(self.outcomes)

    def read(self, size: int = -1) -> bytes:
        del size
        while self.pending:
            try:
                kind, index, payload = self.queue.get(timeout=1.0)
            except queue_module.Empty:
                self._check_alive()
                continue
            if kind == "data":
                self.bytes_sent += len(payload)
                self._progress()
                return payload
            self.outcomes[index] = payload
            if kind != "done":
                self.failure = payload
                self.stop.set()
                raise SplitFailed(payload)
        return b""

    def readline(self, size: int = -1) -> bytes:  # pragma: no cover - COPY only uses read()
        return self.read(size)

    def _check_alive(self) -> None:
        for index, process in self._processes.items():
            if index not in self.outcomes and process.exitcode not in (None, 0):
                outcome = SplitOutcome(index, error=f"split {index} died (exit code {process.exitcode})")
                self.outcomes[index] = self.failure = outcome
                self.stop.set()
                raise SplitFailed(outcome)

    def _progress(self) -> None:
        now = time.perf_counter()
        if now - self._last_report >= PROGRESS_SECONDS and self._total:
            self._last_report = now
            rate = self.bytes_sent / 1e6 / max(now - self._started, 1e-9)
            self._log(f"    ... {min(self.bytes_sent / self._total, 1):4.0%} of {self._total / 1e6:,.0f} MB "
                      f"streamed ({rate:,.0f} MB/s)")

    def close(self) -> None:
        """Stop and reap the workers (after success, failure or interruption)."""
        self.stop.set()
        deadline = time.monotonic() + 10
        while any(p.is_alive() for p in self._processes.values()) and time.monotonic() < deadline:
            with contextlib.suppress(queue_module.Empty):  # drain: workers blocked on a full queue exit
                self.queue.get(timeout=0.1)
        for process in self._processes.values():
            if process.is_alive():
                process.terminate()
            process.join(timeout=5)
        self.queue.close()
        self.queue.join_thread()
