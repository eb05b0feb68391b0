"""Independent, reproducible random streams and the day's clock labels."""

from __future__ import annotations

import datetime as dt
from enum import IntEnum

import numpy as np

BLOCK_SECONDS = 600


class Stream(IntEnum):
    FLEET = 1
    MASTER = 2
    BUYLIST = 3
    PROFILE = 4
    FAILURES = 5
    STATUS_BLOCK = 6
    DRIVE_PLAN = 7
    DRIVE_BLOCK = 8
    CONGESTION = 9
    TASTE = 10


def rng(seed: int, stream: Stream, *keys: int) -> np.random.Generator:
    """A generator that depends only on the seed, the stream and the keys (e.g. date, block)."""
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    return np.random.default_rng([seed & 0xFFFFFFFF, seed >> 32, int(stream), *keys])


def parse_date(date: str) -> dt.date:
    """The ``yyyyMMdd`` text as a date; ValueError with a readable message otherwise."""
    if len(date) != 8 or not date.isdigit():
        raise ValueError(f"date {date!r} must be yyyyMMdd, e.g. 20200322")
    try:
        return dt.date(int(date[:4]), int(date[4:6]), int(date[6:]))
    except ValueError as exc:
        raise ValueError(f"date {date!r} is not a real calendar date ({exc})") from None


def date_key(date: str) -> int:
    return int(parse_date(date).strftime("%Y%m%d"))


def clock_labels(date: str, seconds: np.ndarray) -> np.ndarray:
    """``yyyyMMddHHmmss`` as a (len, 14) uint8 matrix of ASCII digits."""
    seconds = np.asarray(seconds, dtype=np.int64)
    digits = np.empty((len(seconds), 14), dtype=np.uint8)
    digits[:, :8] = np.frombuffer(date.encode("ascii"), dtype=np.uint8)
    for column, part in enumerate((seconds // 3600, seconds // 60 % 60, seconds % 60)):
        digits[:, 8 + 2 * column] = 48 + part // 10
        digits[:, 9 + 2 * column] = 48 + part % 10
    return digits


def clock_strings(date: str, seconds: np.ndarray) -> np.ndarray:
    """``yyyyMMddHHmmss`` labels as a numpy unicode array."""
    matrix = np.ascontiguousarray(clock_labels(date, seconds))
    return matrix.view("S14").ravel().astype("U14")
