"""Order-free row checksums that PostgreSQL and Python compute identically.

The checksum of a set of rows is the sum, as an exact integer, of a 64-bit signed hash of each
row's canonical text. Two hashes are available:

``hashtext``  PostgreSQL's own ``hashtextextended(text, 0)`` (Bob Jenkins' lookup3, the hash of
              hash partitioning), reimplemented here with numpy over whole chunks. About half
              the server CPU of ``md5`` over a big partition. Its result depends on the server's
              byte order, so it is used only after :func:`choose` checked it against the server.
``md5``       the first 8 bytes of the MD5 digest, big-endian signed: portable fallback.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from operator import methodcaller
from typing import Any

import numpy as np
from psycopg2 import sql

try:  # CPython's built-in MD5 is about twice as fast as OpenSSL's for short rows
    from _md5 import md5 as _md5  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover
    _md5 = hashlib.md5

KINDS = ("hashtext", "md5")
PROBES = ("", "a", "0123456789a", "0123456789ab", "0123456789abc", "A0001\t서울\t\\N\t3.250000", "x" * 100)

_INIT = np.uint32((0x9E3779B9 + 3923095) & 0xFFFFFFFF)
_M32 = np.uint64(0xFFFFFFFF)
_BYTE_MASKS = np.array([0, 0xFF, 0xFFFF, 0xFFFFFF, 0xFFFFFFFF], dtype=np.uint32)
_DIGEST = methodcaller("digest")


def _rot(x: np.ndarray, k: int) -> np.ndarray:
    return (x << np.uint32(k)) | (x >> np.uint32(32 - k))


def _mix(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a -= c; a ^= _rot(c, 4); c += b  # noqa: E702 - lookup3's mix(), line for line
    b -= a; b ^= _rot(a, 6); a += c  # noqa: E702
    c -= b; c ^= _rot(b, 8); b += a  # noqa: E702
    a -= c; a ^= _rot(c, 16); c += b  # noqa: E702
    b -= a; b ^= _rot(a, 19); a += c  # noqa: E702
    c -= b; c ^= _rot(b, 4); b += a  # noqa: E702
    return a, b, c


def _final(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c ^= b; c -= _rot(b, 14)  # noqa: E702 - lookup3's final(), line for line
    a ^= c; a -= _rot(c, 11)  # noqa: E702
    b ^= a; b -= _rot(a, 25)  # noqa: E702
    c ^= b; c -= _rot(b, 16)  # noqa: E702
    a ^= c; a -= _rot(c, 4)  # noqa: E702
    b ^= a; b -= _rot(a, 14)  # noqa: E702
    c ^= b; c -= _rot(b, 24)  # noqa: E702
    return b, c


def _sum64(values: np.ndarray) -> int:
    """Exact sum of int64 values (numpy's own sum would wrap around)."""
    return (int((values >> 32).sum()) << 32) + int((values & 0xFFFFFFFF).sum())


def _hashtext_sum(data: bytes, starts: np.ndarray, lengths: np.ndarray) -> int:
    """Sum of hash_bytes_extended(data[start:start+length], seed 0) over rows (little-endian)."""
    n = len(starts)
    if n == 0:
        return 0
    padded = np.zeros((len(data) + 3) // 4 * 4 + 16, dtype=np.uint8)
    padded[: len(data)] = np.frombuffer(data, dtype=np.uint8)
    words = padded.view("<u4").astype(np.uint64)

    def word(offsets: np.ndarray) -> np.ndarray:  # the 32-bit little-endian word at byte offsets
        q = offsets >> 2
        shift = ((offsets & 3) << 3).astype(np.uint64)
        return (((words[q] | (words[q + 1] << np.uint64(32))) >> shift) & _M32).astype(np.uint32)

    full = lengths // 12  # blocks mixed before the tail
    order = np.argsort(-full, kind="stable")  # rows still mixing at block j form a prefix
    starts, lengths, full = starts[order], lengths[order], full[order]
    counts = np.bincount(full)
    mixing_rows = n - np.cumsum(counts)  # rows with more than j full blocks
    a = _INIT + lengths.astype(np.uint32)
    b, c = a.copy(), a.copy()
    total = 0
    with np.errstate(over="ignore"):
        for j in range(len(counts)):
            mixing = int(mixing_rows[j])
            base = starts + 12 * j
            if counts[j]:  # rows whose last (partial, zero-padded) block is block j
                rows = slice(mixing, mixing + int(counts[j]))
                rest = lengths[rows] - 12 * j
                w0, w1, w2 = (word(base[rows] + 4 * k) & _BYTE_MASKS[np.clip(rest - 4 * k, 0, 4)]
                              for k in range(3))
                hb, hc = _final(a[rows] + w0, b[rows] + w1, c[rows] + (w2 << np.uint32(8)))
                hashed = (hb.astype(np.uint64) << np.uint64(32)) | hc.astype(np.uint64)
                total += _sum64(hashed.view(np.int64))
            if mixing:
                rows = slice(0, mixing)
                w0, w1, w2 = (word(base[rows] + 4 * k) for k in range(3))
                a[rows], b[rows], c[rows] = _mix(a[rows] + w0, b[rows] + w1, c[rows] + w2)
    return total


def _md5_sum(rows: Sequence[bytes]) -> int:
    if not rows:
        return 0
    digests = b"".join(map(_DIGEST, map(_md5, rows)))
    return _sum64(np.frombuffer(digests, dtype=">i8").reshape(-1, 2)[:, 0].astype(np.int64))


def sum_lines(chunk: bytes, kind: str) -> int:
    """Checksum of the ``\\n``-terminated lines of a chunk (each line's text without its newline)."""
    if kind == "md5":
        rows = chunk.split(b"\n")
        rows.pop()
        return _md5_sum(rows)
    raw = np.frombuffer(chunk, dtype=np.uint8)
    ends = np.flatnonzero(raw == 10)
    starts = np.concatenate(([0], ends[:-1] + 1)).astype(np.int64)
    return _hashtext_sum(chunk, starts, ends - starts)


def sum_rows(rows: Sequence[bytes], kind: str) -> int:
    """Checksum of rows given one by one (a row may contain any byte, newlines included)."""
    if kind == "md5":
        return _md5_sum(rows)
    lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    return _hashtext_sum(b"".join(rows), starts, lengths)


def sql_row_hash(kind: str, text: sql.Composable) -> sql.Composable:
    if kind == "md5":
        return sql.SQL("('x' || left(md5({}), 16))::bit(64)::bigint").format(text)
    return sql.SQL("hashtextextended({}, 0)").format(text)


def choose(cur: Any) -> str:
    """``hashtext`` if this server's hashtextextended() equals ours on probe strings, else ``md5``."""
    cur.execute("SELECT hashtextextended(p, 0) FROM unnest(%s::text[]) WITH ORDINALITY AS u(p, i) ORDER BY i",
                (list(PROBES),))
    server = [int(r[0]) for r in cur.fetchall()]
    ours = [sum_rows([p.encode()], "hashtext") for p in PROBES]
    return "hashtext" if server == ours else "md5"
