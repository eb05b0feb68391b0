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

Crash safety: per file, a checkpoint ``DIR/.pilot-spool/NAME.json`` holds the file's inode and
size, the byte offset of the next unread line, the line number, the wrk_date and the counts. It
is replaced atomically only after Kafka confirmed every record of the batch before it. A
restarted collector resumes each file from its checkpoint (with the file's original wrk_date),
so no valid line is lost; lines of the batch that was in flight at the crash may be produced
twice, and loaders drop such duplicates by ``(car, reg_date)`` (``status_event_id``).
"""

from __future__ import annotations

import fnmatch
import logging
import os
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from ingest.collectors.checkpoint import read_state, remove_state, write_state
from ingest.collectors.delivery import Records
from ingest.collectors.lines import LineReader
from ingest.collectors.outbox import Outbox
from ingest.collectors.report import CollectReport
from ingest.collectors.triage import triage
from ingest.collectors.validate import status_record
from ingest.progress import Ticker
from ingest.stopping import StopFlag
from pilot.errors import PilotError
from pilot.settings import Settings

log = logging.getLogger(__name__)

STATE_DIR = ".pilot-spool"
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


def state_path(path: Path) -> Path:
    return path.parent / STATE_DIR / f"{path.name}.json"


class SpoolCollector:
    def __init__(self, settings: Settings, opts: SpoolOptions, outbox: Outbox,
                 stop: StopFlag | None = None) -> None:
        self.settings = settings
        self.opts = opts
        self.outbox = outbox
        self.stop = stop or StopFlag()
        self.report = CollectReport("spool")

    def run(self) -> CollectReport:
        """Collect every complete file (``once``) or keep polling the directory until stopped."""
        if not self.opts.directory.is_dir():
            raise PilotError(f"spool directory {self.opts.directory} does not exist")
        started = time.monotonic()
        self._forget_orphan_checkpoints()
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
        self.outbox.drain()
        self.report.seconds = time.monotonic() - started
        return self.report.check()

    def _forget_orphan_checkpoints(self) -> None:
        """Checkpoints of files that are gone (done just before a crash) are removed."""
        folder = self.opts.directory / STATE_DIR
        if not folder.is_dir():
            return
        for item in folder.glob("*.json"):
            if not (self.opts.directory / item.name[: -len(".json")]).exists():
                log.info("spool: removing the checkpoint of %s (the file is gone)", item.stem)
                remove_state(item)

    def collect_file(self, path: Path) -> dict[str, Any]:
        """Produce one file's lines from its checkpoint on, then mark the file done."""
        opts = self.opts
        source = f"spool:{path.resolve()}"
        ckpt_path = state_path(path)
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return {}
        try:
            st = os.fstat(fd)
            state = self._resume_state(path, read_state(ckpt_path), st)
            wrk = state["wrk_date"].encode("ascii")
            reader = LineReader(fd, state["offset"], state["line"])
            file_report = CollectReport("spool")
            ticker = Ticker(opts.progress_every)
            if state["offset"]:
                log.info("spool: resuming %s at line %d (byte %d of %d)", path.name, state["line"],
                         state["offset"], st.st_size)
            else:
                log.info("spool: collecting %s (%.1f MB, wrk_date %s)", path.name, st.st_size / 1e6,
                         state["wrk_date"])
            while not self.stop.is_set():
                first_line = reader.line
                lines = reader.read_batch(opts.batch_lines, final=True)
                if not lines:
                    break
                records = self._records(lines, first_line, wrk, source, file_report)
                checkpoint = {**state, "offset": reader.offset, "line": reader.line,
                              "read": state["read"] + file_report.read,
                              "produced": state["produced"] + file_report.produced,
                              "rejected": state["rejected"] + file_report.rejected,
                              "reasons": _merged(state["reasons"], file_report.reasons),
                              "updated_at": time.time()}
                self.outbox.submit(records, on_confirmed=lambda c=checkpoint: write_state(ckpt_path, c))
                if (tick := ticker.due(file_report.read)) is not None:
                    log.info("spool: %s line %s (%.0f%%), %s lines/s", path.name, f"{reader.line:,}",
                             100 * reader.offset / max(st.st_size, 1), f"{tick.rate:,.0f}")
            self.outbox.drain()
            finished = reader.offset >= os.fstat(fd).st_size and not reader.buffered
        finally:
            os.close(fd)
        file_report.check()
        self.report.add(file_report)
        entry = {"file": path.name, "wrk_date": state["wrk_date"], "read": file_report.read,
                 "produced": file_report.produced, "rejected": file_report.rejected,
                 "resumed_at_line": state["line"]}
        if finished:
            entry["done"] = self._mark_done(path)
            remove_state(ckpt_path)
            log.info("spool: %s done: read %s = produced %s + rejected %s -> %s", path.name,
                     f"{file_report.read:,}", f"{file_report.produced:,}", f"{file_report.rejected:,}",
                     entry["done"])
        else:
            log.info("spool: stopped in %s at line %d; the checkpoint resumes it", path.name, reader.line)
        self.report.files.append(entry)
        return entry

    def _resume_state(self, path: Path, state: dict[str, Any] | None, st: os.stat_result) -> dict[str, Any]:
        fresh = {"file": path.name, "inode": st.st_ino, "size": st.st_size, "offset": 0, "line": 0,
                 "wrk_date": self.opts.wrk_date, "read": 0, "produced": 0, "rejected": 0,
                 "reasons": {}, "started_at": time.time()}
        if state is None:
            return fresh
        if state.get("inode") != st.st_ino or int(state.get("offset", 0)) > st.st_size:
            log.warning("spool: %s was replaced since its checkpoint (inode or size changed); "
                        "collecting it from the start", path.name)
            return fresh
        if state.get("wrk_date") != self.opts.wrk_date:
            log.warning("spool: %s was started with wrk_date %s; keeping it for the rest of the file "
                        "(not %s)", path.name, state.get("wrk_date"), self.opts.wrk_date)
        return {**fresh, **state, "size": st.st_size}

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


def _merged(old: dict[str, int], new: Any) -> dict[str, int]:
    out = dict(old)
    for reason, n in new.items():
        out[reason] = out.get(reason, 0) + n
    return out
