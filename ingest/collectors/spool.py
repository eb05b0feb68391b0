"""The spooling-directory collector: complete status files -> ``smartcar-status`` (Flume's role).

Convention for writers (only *complete* files are taken):

* drop a file into the directory by **rename** (write ``NAME.part`` / ``NAME.tmp`` / ``.NAME``
  and rename it when complete — the simulator does this); files ending ``.part`` or ``.tmp``
  and names starting with ``.`` are never taken; or
* write the file in place and create an empty marker ``NAME.done`` next to it when complete;
  with ``require_marker`` (``--done-marker``) only files that have their marker are taken.

Taken are the files matching ``pattern`` (default ``SmartCarStatusInfo_*.txt``), oldest first.
Every line is validated (:func:`ingest.collectors.validate.status_record`); valid lines get the
collection date ``wrk_date`` appended as the 14th field and go to ``settings.topic_status`` with
the car number as key; every other line (file headers included, reason ``header``) goes to
``settings.topic_dlq``. When a file is finished it is renamed to ``NAME.COMPLETED`` (Flume's
convention) or deleted, and its marker removed.

Exactly once: a file is a *source* named by the SHA-256 of its content
(:mod:`ingest.collectors.ledger`). Its lines go to Kafka in transactions of ``batch_lines``
lines, each ending with the file's ledger entry (byte offset and line reached, the wrk_date the
file started with, the counts, ``done`` at the end). A collector that is killed, retried or run
again on a copy of the same file continues from the entry: it neither loses nor repeats a line,
and a file that was collected already is only marked done.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from ingest.collectors.delivery import Records
from ingest.collectors.ledger import file_source
from ingest.collectors.lines import LineReader
from ingest.collectors.report import CollectReport
from ingest.collectors.transactions import TransactionalOutbox
from ingest.collectors.triage import triage
from ingest.collectors.validate import status_record
from ingest.progress import Ticker
from ingest.stopping import StopFlag
from pilot.errors import PilotError
from pilot.settings import Settings

log = logging.getLogger(__name__)

COMPLETED_SUFFIX = ".COMPLETED"
MARKER_SUFFIX = ".done"
IGNORED_SUFFIXES = (".part", ".tmp", COMPLETED_SUFFIX, MARKER_SUFFIX)
DEFAULT_PATTERN = "SmartCarStatusInfo_*.txt"
ON_DONE = ("rename", "delete")


@dataclass(frozen=True)
class SpoolOptions:
    directory: Path
    wrk_date: str
    pattern: str = DEFAULT_PATTERN
    on_done: str = "rename"
    once: bool = False
    require_marker: bool = False
    known_cars: frozenset[str] | None = None
    batch_lines: int = 20_000
    poll_seconds: float = 2.0
    progress_every: float = 5.0

    def __post_init__(self) -> None:
        if self.on_done not in ON_DONE:
            raise PilotError(f"--on-done must be one of {', '.join(ON_DONE)}, got {self.on_done!r}")
        if self.batch_lines < 1:
            raise PilotError(f"--batch-lines must be at least 1, got {self.batch_lines}")


def is_candidate(name: str, pattern: str) -> bool:
    return (not name.startswith(".") and not name.endswith(IGNORED_SUFFIXES)
            and fnmatch.fnmatchcase(name, pattern))


def ready_files(opts: SpoolOptions) -> list[Path]:
    """Complete files waiting in the directory, oldest first."""
    found: list[tuple[float, str, Path]] = []
    with os.scandir(opts.directory) as entries:
        names = {entry.name: entry for entry in entries}
    for name, entry in names.items():
        if not is_candidate(name, opts.pattern) or not entry.is_file(follow_symlinks=False):
            continue
        if opts.require_marker and name + MARKER_SUFFIX not in names:
            continue
        try:
            found.append((entry.stat().st_mtime, name, Path(entry.path)))
        except FileNotFoundError:
            continue
    return [path for _, _, path in sorted(found)]


OutboxFactory = Callable[[str], TransactionalOutbox]  # source -> its transactional outbox


class SpoolCollector:
    """``outbox_for(source)`` opens the transactional outbox of one file (it fences any older
    collector of the same file); ``ledger`` reads a source's committed entry."""

    def __init__(self, settings: Settings, opts: SpoolOptions, outbox_for: OutboxFactory,
                 ledger: Callable[[str], dict[str, Any] | None], stop: StopFlag | None = None) -> None:
        self.settings = settings
        self.opts = opts
        self.outbox_for = outbox_for
        self.ledger = ledger
        self.stop = stop or StopFlag()
        self.report = CollectReport("spool")

    def run(self) -> CollectReport:
        """Collect every complete file (``once``) or keep polling the directory until stopped."""
        if not self.opts.directory.is_dir():
            raise PilotError(f"spool directory {self.opts.directory} does not exist")
        started = time.monotonic()
        announced = False
        while not self.stop.is_set():
            files = ready_files(self.opts)
            for path in files:
                if self.stop.is_set():
                    break
                self.collect_file(path)
            if self.opts.once:
                break
            if not files and not announced:
                log.info("spool: waiting for files matching %s in %s (Ctrl-C or SIGTERM stops)",
                         self.opts.pattern, self.opts.directory)
            announced = not files
            self.stop.wait(self.opts.poll_seconds)
        self.report.seconds = time.monotonic() - started
        return self.report.check()

    def collect_file(self, path: Path) -> dict[str, Any]:
        """Produce one file's lines from its ledger entry on, then mark the file done."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return {}
        file_report = CollectReport("spool")
        try:
            size = os.fstat(fd).st_size
            source = file_source(path)
            with self.outbox_for(source) as outbox:  # from here on no older collector of it writes
                state = self._resume_state(path, self.ledger(source))
                if not state["done"]:
                    state = self._produce(path, fd, size, state, outbox, file_report)
                else:
                    log.info("spool: %s was collected already (%s lines produced, %s rejected, "
                             "wrk_date %s): not sending it again", path.name, f"{state['produced']:,}",
                             f"{state['rejected']:,}", state["wrk_date"])
                self.report.resent += outbox.resent
        finally:
            os.close(fd)
        file_report.check()
        self.report.add(file_report)
        entry: dict[str, Any] = {
            "file": path.name, "source": source, "wrk_date": state["wrk_date"], "read": file_report.read,
            "produced": file_report.produced, "rejected": file_report.rejected,
            "resumed_at_line": state["resumed_at_line"],
            "already_collected": state["resumed_at_line"] is None,
            "file_totals": {k: state[k] for k in ("read", "produced", "rejected")}}
        if state["done"]:
            entry["done"] = self._mark_done(path)
            if file_report.read:
                log.info("spool: %s done: read %s = produced %s + rejected %s -> %s", path.name,
                         f"{file_report.read:,}", f"{file_report.produced:,}",
                         f"{file_report.rejected:,}", entry["done"])
        else:
            log.info("spool: stopped in %s at line %d; its ledger entry resumes it", path.name, state["line"])
        self.report.files.append(entry)
        return entry

    def _produce(self, path: Path, fd: int, size: int, state: dict[str, Any], outbox: TransactionalOutbox,
                 file_report: CollectReport) -> dict[str, Any]:
        """Send the file from ``state`` on, one transaction per batch; the state reached."""
        opts = self.opts
        source = f"spool:{path.resolve()}"
        wrk = state["wrk_date"].encode("ascii")
        reader = LineReader(fd, state["offset"], state["line"])
        ticker = Ticker(opts.progress_every)
        if state["offset"]:
            log.info("spool: resuming %s at line %d (byte %d of %d)", path.name, state["line"],
                     state["offset"], size)
        else:
            log.info("spool: collecting %s (%.1f MB, wrk_date %s)", path.name, size / 1e6, state["wrk_date"])
        while not self.stop.is_set():
            first_line = reader.line
            lines = reader.read_batch(opts.batch_lines, final=True)
            if not lines:
                break
            batch = CollectReport("spool")
            outbox.submit(self._records(lines, first_line, wrk, source, batch))
            state = {**state, "offset": reader.offset, "line": reader.line,
                     "read": state["read"] + batch.read, "produced": state["produced"] + batch.produced,
                     "rejected": state["rejected"] + batch.rejected,
                     "reasons": _merged(state["reasons"], batch.reasons),
                     "done": reader.offset >= size and not reader.buffered, "updated_at": time.time()}
            outbox.commit(_entry(state))
            file_report.add(batch)
            if (tick := ticker.due(file_report.read)) is not None:
                log.info("spool: %s line %s (%.0f%%), %s lines/s", path.name, f"{reader.line:,}",
                         100 * reader.offset / max(size, 1), f"{tick.rate:,.0f}")
        if not state["done"] and reader.offset >= size and not reader.buffered:  # an empty file
            state = {**state, "done": True, "updated_at": time.time()}
            outbox.commit(_entry(state))
        return state

    def _resume_state(self, path: Path, entry: dict[str, Any] | None) -> dict[str, Any]:
        fresh: dict[str, Any] = {
            "file": path.name, "offset": 0, "line": 0, "wrk_date": self.opts.wrk_date, "read": 0,
            "produced": 0, "rejected": 0, "reasons": {}, "done": False, "started_at": time.time()}
        if entry is None:
            return {**fresh, "resumed_at_line": 0}
        state = {**fresh, **entry}
        if state["wrk_date"] != self.opts.wrk_date and not state["done"]:
            log.warning("spool: %s was started with wrk_date %s; keeping it for the rest of the file "
                        "(not %s)", path.name, state["wrk_date"], self.opts.wrk_date)
        return {**state, "resumed_at_line": None if state["done"] else state["line"]}

    def _records(self, lines: list[bytes], first_line: int, wrk: bytes, source: str,
                 report: CollectReport) -> Records:
        build = partial(status_record, wrk_date=wrk, known_cars=self.opts.known_cars)
        return triage(lines, first_line, build, source, report, self.settings.topic_status,
                      self.settings.topic_dlq)

    def _mark_done(self, path: Path) -> str:
        marker = path.with_name(path.name + MARKER_SUFFIX)
        if self.opts.on_done == "delete":
            path.unlink(missing_ok=True)
            result = "deleted"
        else:
            target = path.with_name(path.name + COMPLETED_SUFFIX)
            if target.exists():
                log.warning("spool: replacing the older %s", target.name)
            os.replace(path, target)
            result = target.name
        marker.unlink(missing_ok=True)
        return result


def _entry(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in state.items() if k != "resumed_at_line"}


def _merged(old: dict[str, int], new: Any) -> dict[str, int]:
    out = dict(old)
    for reason, n in new.items():
        out[reason] = out.get(reason, 0) + n
    return out
