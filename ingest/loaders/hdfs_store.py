"""WebHDFS access of the loaders: list wrk_date folders, write a block atomically, retry outages."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

import requests
from hdfs import HdfsError, InsecureClient

from ingest.loaders.blocks import Block
from ingest.loaders.hdfs_names import WRK_DATE_PREFIX, Recovery, partition_dir
from ingest.loaders.retry import NO_DEADLINE, Backoff, with_retry
from ingest.stopping import StopFlag
from pilot.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")
# Connection problems and server-side errors (a NameNode without live DataNodes answers with errors).
RETRY_ON: tuple[type[BaseException], ...] = (requests.exceptions.RequestException, HdfsError, OSError)


class HdfsStore:
    """Thin, retrying wrapper over ``hdfs.InsecureClient`` (pass bytes: ``write(data=str)`` is slow)."""

    def __init__(self, s: Settings, backoff: Backoff = NO_DEADLINE,
                 stop: StopFlag | None = None) -> None:
        self.url = s.webhdfs_url
        self.client = InsecureClient(s.webhdfs_url, user=s.hdfs_user, timeout=60)
        self.backoff = backoff
        self.stop = stop
        self.bytes_written = 0
        self._lock = threading.Lock()  # blocks of different partitions are written in parallel

    def _retry(self, action: Callable[[], T]) -> T:
        return with_retry(action, "HDFS (WebHDFS)", self.url, RETRY_ON, self.backoff, stop=self.stop)

    # ---- reading ------------------------------------------------------------------------------
    def listing(self, base: str) -> list[tuple[str, str]]:
        """``(folder, file name)`` of every file in every ``wrk_date=`` folder under ``base``."""

        def run() -> list[tuple[str, str]]:
            if self.client.status(base, strict=False) is None:
                return []
            found: list[tuple[str, str]] = []
            for entry in self.client.list(base):
                if entry.startswith(WRK_DATE_PREFIX):
                    folder = f"{base.rstrip('/')}/{entry}"
                    found.extend((folder, name) for name in self.client.list(folder))
            return found

        return self._retry(run)

    # ---- writing ------------------------------------------------------------------------------
    def _rename_over(self, src: str, dst: str) -> None:
        """Atomic rename that replaces an existing destination (WebHDFS ``renameoptions=OVERWRITE``)."""
        response = self.client._rename(src, destination=dst, renameoptions="OVERWRITE")
        response.raise_for_status()

    def _rename_done(self, src: str, dst: str) -> None:
        """Rename, tolerating a retry after a rename that went through but whose answer was lost."""
        try:
            self._rename_over(src, dst)
        except HdfsError:
            if self.client.status(src, strict=False) is None and self.client.status(dst, strict=False):
                return
            raise

    def apply(self, recovery: Recovery) -> None:
        """Finish a crashed block's renames and delete abandoned temporary files."""
        for src, dst in recovery.roll_forward:
            log.warning("recovery: completing interrupted rename %s -> %s", src, dst)
            self._retry(lambda src=src, dst=dst: self._rename_done(src, dst))
        for path in recovery.delete:
            log.info("recovery: deleting unfinished temporary file %s", path)
            self._retry(lambda path=path: self.client.delete(path))

    def write_block(self, base: str, block: Block) -> tuple[int, int]:
        """Write every file of ``block`` under its temporary name, then rename all: (files, bytes)."""
        payloads = block.payloads()
        name = block.name
        total = 0
        for date, data in payloads.items():
            path = f"{partition_dir(base, date)}/{name.temp}"
            self._retry(lambda path=path, data=data: self.client.write(path, data=data, overwrite=True))
            total += len(data)
        for date in payloads:
            folder = partition_dir(base, date)
            src, dst = f"{folder}/{name.temp}", f"{folder}/{name.final}"
            self._retry(lambda src=src, dst=dst: self._rename_done(src, dst))
        with self._lock:
            self.bytes_written += total
        return len(payloads), total

    def put_file(self, folder: str, name: str, data: bytes) -> None:
        """Upload ``data`` as ``folder/name`` through a temporary name; replaces an older version."""
        tmp, final = f"{folder}/{'_' + name}", f"{folder}/{name}"
        self._retry(lambda: self.client.write(tmp, data=data, overwrite=True))
        self._retry(lambda: self._rename_done(tmp, final))
