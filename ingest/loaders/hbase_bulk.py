"""The real-time loader's HBase lane when it replays a backlog: HBase's bulk load.

Replaying a past day row by row costs HBase the whole write path per row (Thrift, RPC, WAL,
memstore, flushes and compactions). Real deployments backfill with a bulk load instead: the rows are
written as HFiles, sorted, and handed to the regions at once. Here the loader writes each row as a
line (``ROWKEY TAB VALUE ...``, the same key and columns as a put) into a local file per salt range,
and at the end of the run (or before its partitions move to another member) one ``load`` call
writes the HFiles and loads them (``docker/hbase/TableAdmin.java bulkload``). Only then are the
offsets committed, so a run that dies before loses nothing: the next one replays the backlog from
the last commit, and loading a row again gives the same row. The live path stays row by row.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ingest.closing import Closing
from ingest.loaders.hbase_keys import row_key
from ingest.records import DRIVE_FIELDS

log = logging.getLogger(__name__)

# (rows files, their column qualifiers in value order) -> what HBase said
BulkLoad = Callable[[Sequence[Path], Sequence[str]], str]


def bulk_line(fields: Sequence[str]) -> bytes:
    """One row of the rows file: the row key and the event's fields, tab-separated."""
    return b"\t".join((row_key(fields[1], fields[0]), *(value.encode("ascii") for value in fields))) + b"\n"


class BulkRows(Closing):
    """Rows gathered in local files, one per salt range (the first byte of the key, so the loader's
    sort needs one range in memory at a time), and bulk-loaded into HBase by :meth:`finish`."""

    def __init__(self, load: BulkLoad, folder: Path | None = None) -> None:
        self.load = load
        self.folder = folder
        self.rows = 0
        self.pending = 0
        self._dir: Path | None = None
        self._files: dict[int, Any] = {}

    def ensure_connected(self) -> None:
        """Nothing to connect to before the load (the interface of the row-by-row sink)."""

    def send(self, lines: list[bytes]) -> None:
        if not lines:
            return
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="pilot-bulk-", dir=self.folder))
        files = self._files
        for line in lines:
            out = files.get(line[0])
            if out is None:
                out = files[line[0]] = open(self._dir / f"range-{line[0]:03d}.tsv", "wb",  # noqa: SIM115
                                            buffering=1 << 20)
            out.write(line)
        self.pending += len(lines)
        self.rows += len(lines)

    def finish(self) -> str | None:
        """Bulk-load every row sent since the last finish; what HBase said (None: nothing to load)."""
        if self._dir is None:
            return None
        for out in self._files.values():
            out.close()
        try:
            log.info("bulk-loading %s rows into HBase", f"{self.pending:,}")
            said = self.load([Path(out.name) for out in self._files.values()], DRIVE_FIELDS)
            log.info("%s", said)
            self.pending = 0
            return said
        finally:
            self._discard()

    def close(self) -> None:
        for out in self._files.values():
            out.close()
        self._discard()

    def _discard(self) -> None:
        self._files = {}
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
