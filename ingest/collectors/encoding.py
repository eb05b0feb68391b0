"""Appending many records to one of kafka-python's record batches with few Python operations.

kafka-python encodes each record of a v2 batch in ``DefaultRecordBatchBuilder.append`` with six
calls of a pure-Python varint encoder and a temporary bytearray: most of the producer's time for
small records. :func:`append_many` writes the same bytes for a run of records (one timestamp)
from precomputed varints and one ``join``: length, attributes 0, timestamp delta, offset delta,
key length, key, value length, value, no headers — the record layout of the Kafka protocol —
and updates the builder's counters as ``append`` does, with the same rule for a full batch.

It relies on the builder's internal fields, so :func:`fast_encoding_ok` first encodes sample
records both ways and compares the bytes and counters; if they differ (another kafka-python), the
caller keeps using the builder's own ``append``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

_TABLE_SIZE = 1 << 15


def _varint(value: int) -> bytes:
    """Zigzag varint, as ``kafka.record.util.encode_varint`` writes it."""
    value = (value << 1) ^ (value >> 63)
    out = bytearray()
    while value > 0x7F:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    out.append(value)
    return bytes(out)


_VARINT: list[bytes] = [_varint(i) for i in range(_TABLE_SIZE)]


def varint(value: int) -> bytes:
    return _VARINT[value] if 0 <= value < _TABLE_SIZE else _varint(value)


def append_many(records_builder: Any, records: list[tuple[bytes, bytes]], start: int, timestamp: int) -> int:
    """Append ``records[start:]`` to a ``MemoryRecordsBuilder`` until it is full.

    Returns the index of the first record not appended (``start`` if none was: the builder is
    closed, empty — its first record must go through ``append`` — or full).
    """
    if records_builder._closed:
        return start
    builder = records_builder._builder
    first_ts = builder._first_timestamp
    if first_ts is None:
        return start
    buf = builder._buffer
    room = builder._batch_size - len(buf)
    delta = varint(timestamp - first_ts)
    fixed = 2 + len(delta)  # attributes byte + timestamp delta + header count byte
    table = _VARINT
    offset = records_builder._next_offset
    pieces: list[bytes] = []
    extend = pieces.extend
    i, n = start, len(records)
    while i < n:
        key, value = records[i]
        lk, lv = len(key), len(value)
        off = table[offset] if offset < _TABLE_SIZE else _varint(offset)
        kl = table[lk] if lk < _TABLE_SIZE else _varint(lk)
        vl = table[lv] if lv < _TABLE_SIZE else _varint(lv)
        size = fixed + len(off) + len(kl) + lk + len(vl) + lv
        head = table[size] if size < _TABLE_SIZE else _varint(size)
        need = len(head) + size
        if need > room:
            break
        room -= need
        extend((head, b"\x00", delta, off, kl, key, vl, value, b"\x00"))
        offset += 1
        i += 1
    if i > start:
        buf += b"".join(pieces)
        builder._num_records += i - start
        builder._last_offset = offset - 1
        if builder._max_timestamp < timestamp:
            builder._max_timestamp = timestamp
        records_builder._next_offset = offset
    return i


@cache
def fast_encoding_ok() -> bool:
    """True if :func:`append_many` writes exactly what kafka-python's own ``append`` writes."""
    try:
        from kafka.record.memory_records import MemoryRecordsBuilder
    except ImportError:
        return False
    samples = [(b"A%04d" % (i % 97), b"x" * (i % 300)) for i in range(400)]
    samples += [(b"k", b"y" * 70_000)]  # a value longer than the varint table
    ts = 1_600_000_000_000
    try:
        for batch_size in (1024, 16 * 1024, 256 * 1024):
            mine = MemoryRecordsBuilder(2, 0, batch_size)
            theirs = MemoryRecordsBuilder(2, 0, batch_size)
            mine.append(ts, *samples[0])
            theirs.append(ts, *samples[0])
            j = 1
            while j < len(samples) and theirs.append(ts + 5, *samples[j]) is not None:
                j += 1
            k = append_many(mine, samples, 1, ts + 5)
            a, b = mine._builder, theirs._builder
            if (k != j or bytes(a._buffer) != bytes(b._buffer) or a._num_records != b._num_records
                    or a._last_offset != b._last_offset or a._max_timestamp != b._max_timestamp
                    or mine._next_offset != theirs._next_offset):
                return False
            mine.close()
            theirs.close()
            if bytes(mine.buffer()) != bytes(theirs.buffer()):
                return False
    except (AttributeError, TypeError, ValueError):
        return False
    return True
