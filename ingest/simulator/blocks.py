"""A block of records: a span of the day's time steps for every car of the fleet.

Columns are (times, cars) arrays: integers for numeric fields, small codes for coded fields
(indexes into the field's labels). The same block gives the text lines and the DataFrame rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ingest.simulator.seeding import BLOCK_SECONDS, Stream, clock_labels, clock_strings, date_key, rng
from ingest.simulator.textio import code_field, int_field, join_grid, label_table

Layout = tuple[tuple[str, tuple[str, ...] | None], ...]
# (first step, end step, the block's generator) -> the block's columns
ColumnMaker = Callable[[int, int, np.random.Generator], dict[str, np.ndarray]]


@dataclass(frozen=True)
class Block:
    seconds: np.ndarray
    columns: dict[str, np.ndarray]

    @property
    def rows(self) -> int:
        return len(self.seconds) * next(iter(self.columns.values())).shape[1]


def day_blocks(seed: int, stream: Stream, date: str, steps: int, interval: int,
               columns: ColumnMaker) -> Iterator[Block]:
    """The day's ``steps`` time steps (``interval`` seconds apart) in blocks of ``BLOCK_SECONDS``;
    each block has its own random stream, so a block does not depend on the blocks before it."""
    per_block = max(1, BLOCK_SECONDS // interval)
    key = date_key(date)
    for index, first in enumerate(range(0, steps, per_block)):
        last = min(first + per_block, steps)
        seconds = np.arange(first, last, dtype=np.int64) * interval
        yield Block(seconds, columns(first, last, rng(seed, stream, key, index)))


def step_seconds(day_seconds: int, interval: int) -> np.ndarray:
    """The second of the day of every time step."""
    return np.arange(0, day_seconds, interval, dtype=np.int64)


def encode_block(block: Block, date: str, fleet: Sequence[str], layout: Layout) -> bytes:
    """The block's lines: ``time,car,<layout fields>`` ordered by time then car."""
    times, cars = len(block.seconds), len(fleet)
    fields = [clock_labels(date, block.seconds)[:, None, :], label_table(list(fleet))[None, :, :]]
    for name, labels in layout:
        values = block.columns[name]
        fields.append(int_field(values) if labels is None else code_field(values, labels))
    return join_grid(fields, times, cars)


def blocks_to_frame(
    blocks: Sequence[Block],
    fleet: Sequence[str],
    date: str,
    time_field: str,
    layout: Layout,
    day_seconds: int,
    interval: int,
) -> pd.DataFrame:
    """Rows of the blocks in file order; time, car and coded fields are categoricals (the time's
    categories are every step of a day of ``day_seconds``, ``interval`` seconds apart)."""
    cars = len(fleet)
    steps = step_seconds(day_seconds, interval)
    seconds = np.concatenate([block.seconds for block in blocks]) if blocks else np.empty(0, np.int64)
    time_codes = np.repeat(np.searchsorted(steps, seconds), cars)
    data: dict[str, object] = {
        time_field: pd.Categorical.from_codes(time_codes, clock_strings(date, steps)),
        "car_number": pd.Categorical.from_codes(np.tile(np.arange(cars), len(seconds)), list(fleet)),
    }
    for name, labels in layout:
        parts = [block.columns[name].reshape(-1) for block in blocks]
        values = np.concatenate(parts) if parts else np.empty(0, np.uint8)
        data[name] = values if labels is None else pd.Categorical.from_codes(values, list(labels))
    return pd.DataFrame(data)
