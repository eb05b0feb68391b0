"""One parallel split of an export, run in its own process: WebHDFS -> validate and convert.

Workers send converted COPY text to the coordinator through a queue; the coordinator streams it
into ONE ``COPY ... FREEZE`` in the transaction that created the staging table (no WAL under
``wal_level=minimal``, no hint-bit pass later, one transaction id). Messages, as tuples:

``("data", index, bytes)``            converted COPY text (about 1 MB)
``("done", index, SplitOutcome)``     the split is complete (rows, checksum, skipped bad rows)
``("bad", index, SplitOutcome)``      strict mode: rows that do not convert (export must stop)
``("error", index, SplitOutcome)``    any other failure (message in ``outcome.error``)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from export.codec import FieldSpec, LineCodec
from export.splits import Segment
from export.stream import BadRow, BadRows, CopySource, Opener, local_opener, webhdfs_opener


@dataclass(frozen=True)
class SplitTask:
    index: int
    segments: list[Segment]
    source_columns: list[str]
    fields: list[FieldSpec]
    selection: list[int]
    webhdfs_url: str  # or "file:" to read local paths
    hdfs_user: str
    skip_bad_rows: bool
    checksum: str = "hashtext"


@dataclass
class SplitOutcome:
    index: int
    rows: int = 0
    checksum: int = 0
    bytes_read: int = 0
    bad_count: int = 0
    bad: list[BadRow] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None


def opener(task: SplitTask) -> Opener:
    if task.webhdfs_url.startswith("file:"):
        return local_opener()
    from hdfs import InsecureClient

    return webhdfs_opener(InsecureClient(task.webhdfs_url, user=task.hdfs_user))


def run_split(task: SplitTask, queue: Any, stop: Any) -> None:
    """Read, validate and convert one split; everything goes to ``queue`` (see module doc)."""
    started = time.perf_counter()
    outcome = SplitOutcome(task.index)
    source: CopySource | None = None
    try:
        codec = LineCodec(task.source_columns, task.fields, task.selection, task.checksum)
        source = CopySource(task.segments, codec, opener(task), task.skip_bad_rows, should_stop=stop.is_set)
        for data in source.chunks():
            queue.put(("data", task.index, data))
        kind = "done"
    except BadRows as exc:
        kind = "bad"
        outcome.bad, outcome.bad_count = exc.rows[:10], len(exc.rows)
    except Exception as exc:  # reported to the coordinator, which fails the export
        kind = "error"
        text = " ".join(str(exc).split()) or type(exc).__name__
        outcome.error = text if "stopped:" in text else f"{type(exc).__name__}: {text}"
    if source is not None:
        stats = source.stats
        outcome.rows, outcome.checksum, outcome.bytes_read = stats.rows, stats.checksum, stats.bytes_read
        if kind == "done":
            outcome.bad, outcome.bad_count = stats.bad, stats.bad_count
    outcome.seconds = time.perf_counter() - started
    queue.put((kind, task.index, outcome))
