"""Disk used by each store of the stack: its folders under ``var/data`` and what it keeps in HDFS.

HBase and the Hive warehouse live in HDFS, so their bytes sit inside the DataNode's folder: they
are reported as what their HDFS folders hold (bytes of data, before replication; a file being
written counts what it holds so far) next to the DataNode's local total, never added to it twice.
HBase's share is split into live tables, archived HFiles and WALs (the archive and the old WALs are
garbage its cleaners remove after a while).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from pilot.settings import Settings

# service -> its folders under var/ (a service's working folder is var/data/<service>); Airflow's
# home (task logs, the DAG processor's state) is var/airflow, its metadata lives in PostgreSQL
LOCAL_FOLDERS: dict[str, tuple[str, ...]] = {
    "postgres": ("data/postgres",),
    "redis": ("data/redis",),
    "hdfs-namenode": ("data/hdfs/name", "data/hdfs-namenode"),
    "hdfs-datanode": ("data/hdfs/data", "data/hdfs-datanode"),
    "kafka": ("data/kafka",),
    "hbase": ("data/hbase",),
    "hive": ("data/hive",),
    "airflow-api-server": ("airflow",),
}


def hdfs_folders(s: Settings) -> dict[str, dict[str, str]]:
    """service -> {part: HDFS path} of what it keeps in HDFS."""
    return {
        "hbase": {"tables": "/hbase/data", "archived HFiles": "/hbase/archive",
                  "WALs": "/hbase/WALs", "old WALs": "/hbase/oldWALs"},
        "hive": {"warehouse": s.hive_warehouse.removeprefix(s.hdfs_uri)},
        "hdfs-datanode": {"raw partitions": s.hdfs_root},
    }


@dataclass
class DiskUse:
    service: str
    local_bytes: int = 0
    hdfs_bytes: dict[str, int | None] = field(default_factory=dict)  # None: HDFS did not answer

    @property
    def hdfs_total(self) -> int | None:
        values = list(self.hdfs_bytes.values())
        return None if any(v is None for v in values) else sum(v or 0 for v in values)

    def describe(self) -> str:
        parts = [human(self.local_bytes)] if self.local_bytes or not self.hdfs_bytes else []
        if self.hdfs_bytes:
            total = self.hdfs_total
            parts.append(f"{human(total) if total is not None else '?'} in HDFS")
        return " + ".join(parts)


def folder_bytes(path: Path) -> int:
    """Bytes allocated on disk under ``path`` (like ``du``: sparse and preallocated files count as
    what they occupy)."""
    total = 0
    for root, _dirs, files in os.walk(path, onerror=lambda _e: None):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                continue
    return total


def hdfs_space(s: Settings, paths: dict[str, str], timeout: float = 5.0) -> dict[str, int | None]:
    """Bytes of data in HDFS per path (one replica); 0 for a path that does not exist, None for all
    when HDFS does not answer."""
    from hdfs import HdfsError, InsecureClient

    client = InsecureClient(s.webhdfs_url, user=s.hdfs_user, timeout=timeout)
    found: dict[str, int | None] = {}
    for part, path in paths.items():
        try:
            summary = client.content(path, strict=False)
            found[part] = int(summary["length"]) if summary else 0
        except (HdfsError, OSError, TypeError, KeyError):
            return dict.fromkeys(paths)
    return found


def disk_usage(s: Settings, with_hdfs: bool = True) -> dict[str, DiskUse]:
    """service -> its disk use, for the services that store data."""
    uses = {name: DiskUse(name, sum(folder_bytes(s.var_dir / sub) for sub in subs))
            for name, subs in LOCAL_FOLDERS.items()}
    if with_hdfs:
        for name, paths in hdfs_folders(s).items():
            uses[name].hdfs_bytes = hdfs_space(s, paths)
    return uses


def human(n: int | None) -> str:
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"
