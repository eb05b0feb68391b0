"""Fast text encoding: records as a uint8 grid of ASCII bytes, padding removed in one pass.

Each field is a uint8 array of shape (times, cars, width) — or broadcastable to it, e.g. a time
label of shape (times, 1, 14) — whose unused bytes are 0. Lines are the fields joined with
commas and ended with a newline; zero bytes are dropped, so variable-width integers need no
Python formatting.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_MAX_INT = 999


def _int_table(width: int) -> np.ndarray:
    table = np.zeros((_MAX_INT + 1, width), dtype=np.uint8)
    for value in range(_MAX_INT + 1):
        text = str(value).encode("ascii")
        if len(text) <= width:
            table[value, width - len(text):] = np.frombuffer(text, dtype=np.uint8)
    return table


_INT3 = _int_table(3)


def int_field(values: np.ndarray) -> np.ndarray:
    """Integers 0..999 as right-aligned, zero-padded 3-byte ASCII."""
    return _INT3[np.asarray(values, dtype=np.intp)]


def label_table(labels: Sequence[str]) -> np.ndarray:
    """A (len(labels), max width) uint8 table of ASCII labels, zero-padded on the right."""
    width = max(len(label) for label in labels)
    table = np.zeros((len(labels), width), dtype=np.uint8)
    for row, label in enumerate(labels):
        table[row, : len(label)] = np.frombuffer(label.encode("ascii"), dtype=np.uint8)
    return table


def code_field(codes: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """Small integer codes as their ASCII labels."""
    return label_table(labels)[np.asarray(codes, dtype=np.intp)]


def join_grid(fields: Sequence[np.ndarray], times: int, cars: int) -> bytes:
    """Comma-separated, newline-terminated lines ordered by time then car."""
    widths = [field.shape[-1] for field in fields]
    grid = np.empty((times, cars, sum(widths) + len(widths)), dtype=np.uint8)
    offset = 0
    for field, width in zip(fields, widths, strict=True):
        grid[:, :, offset : offset + width] = field
        grid[:, :, offset + width] = ord(",")
        offset += width + 1
    grid[:, :, offset - 1] = ord("\n")
    flat = grid.reshape(-1)
    return flat[flat != 0].tobytes()
