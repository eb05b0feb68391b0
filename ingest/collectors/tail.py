"""The tail collector: follow a growing driving log into ``SmartCar-Topic``, like ``tail -F``.

* Only complete lines are taken: a trailing partial line waits for its newline.
* **Rotation** (the path now names a different inode, or is gone): the old file is read to its
  end first (a last line without newline counts, the file is complete), then the new file is
  followed from its start.
* **Truncation** (the file is shorter than the offset reached): start again at offset 0.
* Each line is validated with ``parse_drive_line``; valid lines go to ``settings.topic_drive``
  (key = car number), others to ``settings.topic_dlq`` with their reason.
* A state file (default ``settings.var_dir/collect/tail-<name>.json``) holds the inode, the byte
  offset of the next unread line and the line number; it is replaced atomically after each batch
  Kafka confirmed, so a restart continues where the last confirmed batch ended. If the file was
  rotated while the collector was stopped, the rotated file is looked up by its inode in the same
  directory and finished first.
* Without a state file the collector starts at the end of the file (like ``tail -F``), or at
  its start with ``from_start``. ``idle_exit`` ends the run after that many seconds without data.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from ingest.closing import Closing
from ingest.collectors.checkpoint import read_state, write_state
from ingest.collectors.lines import LineReader, last_line_end
from ingest.collectors.outbox import Outbox
from ingest.collectors.report import CollectReport
from ingest.collectors.triage import triage
from ingest.collectors.validate import drive_record
from ingest.progress import Ticker
from ingest.stopping import StopFlag
from pilot.errors import PilotError
from pilot.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TailOptions:
    path: Path
    from_start: bool = False
    idle_exit: float | None = None
    state_path: Path | None = None
    known_cars: frozenset[str] | None = None
    batch_lines: int = 20_000
    poll_seconds: float = 0.5
    progress_every: float = 5.0

    def __post_init__(self) -> None:
        if self.batch_lines < 1:
            raise PilotError(f"--batch-lines must be at least 1, got {self.batch_lines}")
        if self.idle_exit is not None and self.idle_exit < 0:
            raise PilotError(f"--idle-exit must not be negative, got {self.idle_exit}")


def default_state_path(settings: Settings, path: Path) -> Path:
    return settings.var_dir / "collect" / f"tail-{path.name}.json"


def find_by_inode(directory: Path, inode: int) -> Path | None:
    """A file of ``directory`` with that inode (a rotated log, e.g. ``drive.log.1``)."""
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.is_file(follow_symlinks=False) and entry.inode() == inode:
                    return Path(entry.path)
    except FileNotFoundError:
        return None
    return None


class _Open(Closing):
    """One open file being followed."""

    def __init__(self, path: Path, fd: int, offset: int = 0, line: int = 0) -> None:
        self.path = path
        self.fd = fd
        self.inode = os.fstat(fd).st_ino
        self.reader = LineReader(fd, offset, line)

    def close(self) -> None:
        os.close(self.fd)


class TailCollector:
    def __init__(self, settings: Settings, opts: TailOptions, outbox: Outbox,
                 stop: StopFlag | None = None) -> None:
        self.settings = settings
        self.opts = opts
        self.outbox = outbox
        self.stop = stop or StopFlag()
        self.report = CollectReport("tail")
        self.state_path = opts.state_path or default_state_path(settings, opts.path)
        self.source = f"tail:{opts.path.resolve()}"
        self.current: _Open | None = None
        self._last_data = time.monotonic()
        self._ticker = Ticker(opts.progress_every)

    # ---- lifecycle ---------------------------------------------------------------------------
    def run(self) -> CollectReport:
        started = time.monotonic()
        try:
            self.start()
            while not self.stop.is_set():
                if self.step():
                    continue
                idle = time.monotonic() - self._last_data
                if self.opts.idle_exit is not None and idle >= self.opts.idle_exit:
                    log.info("tail: no new data for %.0f s; exiting", self.opts.idle_exit)
                    break
                self.stop.wait(self.opts.poll_seconds)
            self.outbox.drain()
        finally:
            if self.current is not None:
                self.current.close()
                self.current = None
        self.report.seconds = time.monotonic() - started
        return self.report.check()

    def start(self) -> None:
        """Open the file at the stored position (finishing a file rotated meanwhile)."""
        state = read_state(self.state_path)
        path = self.opts.path
        if state is not None and state.get("path") not in (None, str(path.resolve())):
            log.warning("tail: the state file %s belongs to %s, not %s; ignoring it (use --state)",
                        self.state_path, state.get("path"), path)
            state = None
        if state is not None:
            inode, offset, line = int(state["inode"]), int(state["offset"]), int(state.get("line", 0))
            if self._stat_inode(path) != inode:
                rotated = find_by_inode(path.parent, inode)
                if rotated is not None:
                    log.info("tail: %s was rotated to %s while stopped; finishing it first", path, rotated)
                    self._finish_rotated(rotated, offset, line)
                else:
                    log.warning("tail: the file followed before (inode %d) is gone; starting %s from "
                                "its beginning", inode, path)
                self._open(path, 0, 0, save=True)
                return
            self._open(path, offset, line)
            if self.current is not None and os.fstat(self.current.fd).st_size < offset:
                log.warning("tail: %s is shorter than the stored offset %d: truncated; from the start",
                            path, offset)
                self.current.reader.reset()
            return
        self._open(path, None if not self.opts.from_start else 0, 0)

    def _open(self, path: Path, offset: int | None, line: int, save: bool = False) -> None:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            log.info("tail: waiting for %s to appear", path)
            self.current = None
            return
        if offset is None:  # like tail -F: only what is written from now on
            offset = last_line_end(fd, os.fstat(fd).st_size)
        self.current = _Open(path, fd, offset, line)
        log.info("tail: following %s from byte %d", path, offset)
        if save:
            self._save_state(self.current.inode, offset, line)

    @staticmethod
    def _stat_inode(path: Path) -> int | None:
        try:
            return os.stat(path).st_ino
        except FileNotFoundError:
            return None

    # ---- one step ----------------------------------------------------------------------------
    def step(self) -> bool:
        """Produce the next batch of complete lines, or handle rotation/truncation.

        Returns True if lines were produced (call again at once), False when idle.
        """
        if self.current is None:
            self._open(self.opts.path, 0, 0, save=True)
            if self.current is None:
                return False
        cur = self.current
        lines = cur.reader.read_batch(self.opts.batch_lines)
        if lines:
            self._produce(cur, lines, cur.reader.line - len(lines))
            return True
        # nothing new: truncated? rotated?
        size = os.fstat(cur.fd).st_size
        if size < cur.reader.offset + cur.reader.buffered:
            log.warning("tail: %s was truncated (size %d < offset %d); following it from the start",
                        cur.path, size, cur.reader.offset)
            cur.reader.reset()
            self._save_state(cur.inode, 0, 0)
            return True
        inode = self._stat_inode(self.opts.path)
        if inode is not None and inode != cur.inode:
            log.info("tail: %s was rotated; finishing the old file, then following the new one",
                     self.opts.path)
            self._drain_old(cur)
            cur.close()
            self.current = None
            self._open(self.opts.path, 0, 0, save=True)
            return True
        return False

    def _drain_old(self, cur: _Open) -> None:
        while lines := cur.reader.read_batch(self.opts.batch_lines, final=True):
            self._produce(cur, lines, cur.reader.line - len(lines))
        self.outbox.drain()

    def _finish_rotated(self, path: Path, offset: int, line: int) -> None:
        with _Open(path, os.open(path, os.O_RDONLY), offset, line) as old:
            self._drain_old(old)

    def _produce(self, cur: _Open, lines: list[bytes], first_line: int) -> None:
        self._last_data = time.monotonic()
        report = self.report
        build = partial(drive_record, known_cars=self.opts.known_cars)
        records = triage(lines, first_line, build, self.source, report, self.settings.topic_drive,
                         self.settings.topic_dlq)
        inode, offset, line = cur.inode, cur.reader.offset, cur.reader.line
        self.outbox.submit(records, on_confirmed=lambda: self._save_state(inode, offset, line))
        if (tick := self._ticker.due(report.read)) is not None:
            log.info("tail: %s lines (%s lines/s), %s rejected", f"{report.read:,}",
                     f"{tick.rate:,.0f}", f"{report.rejected:,}")

    def _save_state(self, inode: int, offset: int, line: int) -> None:
        state: dict[str, Any] = {"path": str(self.opts.path.resolve()), "inode": inode, "offset": offset,
                                 "line": line, "updated_at": time.time()}
        write_state(self.state_path, state)
