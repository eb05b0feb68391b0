"""Disk use per service (`pilot stack status`) and the HBase table's storage settings, without services."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from pilot.errors import PilotError
from pilot.settings import get_settings
from stack import manager
from stack.disk import DiskUse, disk_usage, folder_bytes, human
from stack.services import hbase


def test_human_sizes() -> None:
    assert human(0) == "0 B"
    assert human(1023) == "1023 B"
    assert human(1536) == "1.5 KB"
    assert human(5 * 1024**2) == "5.0 MB"
    assert human(3 * 1024**4) == "3072.0 GB"
    assert human(None) == "?"


def test_folder_bytes_counts_what_the_files_occupy(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"x" * 10_000)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b").write_bytes(b"y" * 5_000)
    expected = sum(os.lstat(p).st_blocks * 512 for p in (tmp_path / "a", tmp_path / "sub" / "b"))
    assert folder_bytes(tmp_path) == expected >= 15_000
    assert folder_bytes(tmp_path / "missing") == 0


def test_describe_puts_hdfs_data_next_to_local_files() -> None:
    assert DiskUse("postgres", 2048).describe() == "2.0 KB"
    both = DiskUse("hbase", 1024, {"tables": 3 * 1024**2, "WALs": 1024**2})
    assert both.describe() == "1.0 KB + 4.0 MB in HDFS"
    assert DiskUse("hbase", 0, {"tables": 1024}).describe() == "1.0 KB in HDFS"
    assert DiskUse("hbase", 0, {"tables": None, "WALs": 5}).describe() == "? in HDFS"


def test_disk_usage_reads_each_services_folders(tmp_path: Path) -> None:
    s = dataclasses.replace(get_settings(), var_dir=tmp_path)
    (tmp_path / "data" / "postgres").mkdir(parents=True)
    (tmp_path / "data" / "postgres" / "base").write_bytes(b"p" * 8192)
    (tmp_path / "airflow" / "logs").mkdir(parents=True)
    (tmp_path / "airflow" / "logs" / "task.log").write_bytes(b"l" * 4096)
    uses = disk_usage(s, with_hdfs=False)
    assert uses["postgres"].local_bytes >= 8192
    assert uses["airflow-api-server"].local_bytes >= 4096
    assert uses["kafka"].local_bytes == 0
    assert uses["hbase"].hdfs_bytes == {}


def test_status_table_gets_a_disk_column_when_asked() -> None:
    state = manager.ServiceState("postgres", "127.0.0.1:5432", "up", 42, "", "log")
    plain = manager.format_table([state])
    with_disk = manager.format_table([state], {"postgres": "63.5 MB"})
    assert "DISK" not in plain
    header, row = with_disk.splitlines()
    assert header.split()[:5] == ["SERVICE", "ADDRESS", "STATE", "PID", "DISK"]
    assert "63.5 MB" in row


def test_hbase_storage_settings_are_checked() -> None:
    s = get_settings()
    assert hbase.storage(dataclasses.replace(s, hbase_block_encoding="fast_diff", hbase_compression="ZSTD")) \
        == ("FAST_DIFF", "zstd")
    with pytest.raises(PilotError, match="PILOT_HBASE_BLOCK_ENCODING"):
        hbase.storage(dataclasses.replace(s, hbase_block_encoding="PREFIX_TREE"))
    with pytest.raises(PilotError, match="PILOT_HBASE_COMPRESSION"):
        hbase.storage(dataclasses.replace(s, hbase_compression="lzo"))


def test_table_admin_program_ships_next_to_the_hbase_config() -> None:
    source = hbase.TABLE_ADMIN.read_text(encoding="utf-8")
    assert "public class TableAdmin" in source
    for action in ('"ensure"', '"flush"', '"compact"'):
        assert action in source
