"""HDFS file names of the batch loader, offset blocks, and recovering offsets from names."""

from __future__ import annotations

from ingest.loaders.blocks import BlockBuffer, block_end
from ingest.loaders.hdfs_names import BlockName, covers, parse_name, recover


def test_final_and_temporary_names() -> None:
    name = BlockName("status", 2, 1000, 1999)
    assert name.final == "status-p2-000000001000-000000001999.txt"
    assert name.temp == "_status-p2-000000001000-000000001999.txt"  # Hive ignores a leading "_"
    assert parse_name(name.final) == (name, False)
    assert parse_name(name.temp) == (name, True)
    assert parse_name("part-00000") is None
    assert parse_name("status-p2-1000-1999.txt") is None


def test_recovery_takes_the_highest_final_offset_of_that_topic_partition_only() -> None:
    listing = [
        ("/s/wrk_date=20200321", BlockName("status", 0, 0, 999).final),
        ("/s/wrk_date=20200322", BlockName("status", 0, 1000, 1999).final),
        ("/s/wrk_date=20200322", BlockName("status", 1, 0, 5999).final),
        ("/s/wrk_date=20200322", BlockName("drive", 0, 0, 8999).final),
        ("/s/wrk_date=20200322", "_SUCCESS"),
    ]
    rec = recover(listing, "status", 0)
    assert rec.last_offset == 1999 and rec.next_offset == 2000
    assert rec.roll_forward == [] and rec.delete == []
    assert recover(listing, "status", 2).next_offset is None
    assert covers(2000, 1999) and not covers(2000, 2000) and not covers(None, 0)


def test_recovery_rolls_forward_a_half_renamed_block_and_deletes_unfinished_ones() -> None:
    done = BlockName("drive", 1, 2000, 2999)  # spans two dates; crash after renaming one file
    unfinished = BlockName("drive", 1, 3000, 3499)  # crash while writing: no final file anywhere
    listing = [
        ("/d/wrk_date=20200322", done.final),
        ("/d/wrk_date=20200323", done.temp),
        ("/d/wrk_date=20200323", unfinished.temp),
    ]
    rec = recover(listing, "drive", 1)
    assert rec.last_offset == 2999
    assert rec.roll_forward == [(f"/d/wrk_date=20200323/{done.temp}", f"/d/wrk_date=20200323/{done.final}")]
    assert rec.delete == [f"/d/wrk_date=20200323/{unfinished.temp}"]


def test_blocks_end_on_multiples_of_roll_records_whatever_the_start() -> None:
    assert block_end(0, 1000) == 999
    assert block_end(1500, 1000) == 1999
    buf = BlockBuffer("status", 0, 1000)
    finished = []
    for offset in range(1500, 3200):
        done = buf.add(offset, "20200322", f"line{offset}", 0.0)
        if done:
            finished.append(done)
        if buf.full():
            finished.append(buf.take())
    assert [(b.first, b.last) for b in finished] == [(1500, 1999), (2000, 2999)]
    assert buf.block is not None and (buf.block.first, buf.block.last) == (3000, 3199)


def test_a_block_splits_its_lines_by_wrk_date_and_counts_rejects() -> None:
    buf = BlockBuffer("drive", 0, 100)
    buf.add(0, "20200322", "a", 0.0)
    buf.add(1, None, None, 0.0)  # rejected: consumed, not written
    buf.add(2, "20200323", "b", 0.0)
    buf.add(3, "20200322", "c", 0.0)
    block = buf.take()
    assert block is not None
    assert block.records == 4 and block.written == 3
    assert block.payloads() == {"20200322": b"a\nc\n", "20200323": b"b\n"}
    assert buf.due(10.0, 5.0) is False
