"""Starting HDFS never deletes DataNode blocks: a lost NameNode stops `pilot stack up` with a message."""

from __future__ import annotations

from pathlib import Path

import pytest

from pilot.errors import PilotError
from pilot.settings import load_settings
from stack.services import hdfs


def test_blocks_without_namenode_metadata_stop_the_start_and_survive(tmp_path: Path) -> None:
    s = load_settings({"PILOT_VAR_DIR": str(tmp_path / "var")}, env_file=tmp_path / ".env")
    block = s.path("data", "hdfs", "data", "current", "BP-1", "blk_1073741825")
    block.parent.mkdir(parents=True)
    block.write_bytes(b"the only copy")

    with pytest.raises(PilotError) as caught:
        hdfs.prepare_namenode(s)

    message = str(caught.value)
    assert str(s.path("data", "hdfs", "data")) in message
    assert "VERSION" in message and "rm -rf" in message and "pilot stack up" in message
    assert block.read_bytes() == b"the only copy"


def test_an_empty_data_folder_is_no_reason_to_stop(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    hdfs.refuse_orphan_blocks(data, tmp_path / "name")
    hdfs.refuse_orphan_blocks(tmp_path / "missing", tmp_path / "name")
