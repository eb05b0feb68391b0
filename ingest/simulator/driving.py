"""The day's driving events: one per car every ``drive_interval`` seconds, in time order.

Speeds, pedals and areas come from the :mod:`drive_plan`; steering and turn signals are drawn
per block of ``BLOCK_SECONDS`` from the driver's profile. Normal drivers mostly go straight and
signal with the wheel; calm drivers never steer sharply; wild drivers turn more and sharper and
their signals often disagree with the wheel.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from ingest.records import SIGNAL_CODES, STEER_CODES
from ingest.simulator.blocks import Block, Layout, blocks_to_frame, day_blocks, encode_block
from ingest.simulator.config import SimulatorConfig
from ingest.simulator.drive_plan import AREAS, DrivePlan, plan_drive
from ingest.simulator.output import WriteResult, write_blocks
from ingest.simulator.progress import Progress
from ingest.simulator.seeding import Stream

LAYOUT: Layout = (
    ("speed_pedal", None),
    ("break_pedal", None),
    ("steer_angle", STEER_CODES),
    ("direct_light", SIGNAL_CODES),
    ("speed", None),
    ("area_number", AREAS),
)
STEER_SIDE = np.array([0, 1, 1, 1, 2, 2, 2], dtype=np.uint8)
SHARP_SPLIT = 0.7


def drive_file_name(date: str) -> str:
    return f"SmartCarDrivingInfo_{date}.txt"


def _steer_table(plan: DrivePlan) -> np.ndarray:
    """Cumulative probabilities of F, L1, L2, L3, R1, R2, R3 per car."""
    turn, sharp = plan.profiles.turn_share, plan.profiles.sharp_share
    mild = (turn - sharp) / 2
    half = sharp / 2
    probs = np.stack(
        [1 - turn, mild, half * SHARP_SPLIT, half * (1 - SHARP_SPLIT), mild, half * SHARP_SPLIT,
         half * (1 - SHARP_SPLIT)], axis=1,
    )
    return np.cumsum(probs, axis=1)[:, :-1]


def _materialise(
    plan: DrivePlan, steer: np.ndarray, first: int, last: int, gen: np.random.Generator,
) -> dict[str, np.ndarray]:
    position = np.arange(plan.cars)[None, :] * plan.steps + np.arange(first, last)[:, None]
    run = np.searchsorted(plan.run_start, position, side="right") - 1
    offset = position - plan.run_start[run]
    even = (offset & 1) == 0
    slope = plan.slope[run].astype(np.int64)
    rise = np.where(plan.alternating[run], np.where(even, slope, 0), slope * (offset + 1))
    area = plan.area_code[np.searchsorted(plan.area_start, position, side="right") - 1]

    draws = gen.random((3, last - first, plan.cars), dtype=np.float32)
    steer_code = (draws[0][..., None] >= steer[None, :, :]).sum(-1).astype(np.uint8)
    side = STEER_SIDE[steer_code]
    agree = draws[1] < plan.profiles.signal_agree[None, :]
    other = (side + 1 + (draws[2] < 0.5)) % 3
    return {
        "speed_pedal": np.where(even, plan.acc_even[run], plan.acc_odd[run]),
        "break_pedal": np.where(even, plan.brk_even[run], plan.brk_odd[run]),
        "steer_angle": steer_code,
        "direct_light": np.where(agree, side, other).astype(np.uint8),
        "speed": (plan.base[run] + rise).astype(np.uint8),
        "area_number": area,
    }


def drive_blocks(
    fleet: list[str], date: str, seed: int, config: SimulatorConfig | None = None,
    plan: DrivePlan | None = None,
) -> Iterator[Block]:
    """The day's events in blocks of ``BLOCK_SECONDS``; each block has its own random stream."""
    config = config or SimulatorConfig()
    plan = plan or plan_drive(fleet, date, seed, config)
    columns = partial(_materialise, plan, _steer_table(plan))
    yield from day_blocks(seed, Stream.DRIVE_BLOCK, date, plan.steps, config.drive_interval, columns)


def drive_frame(
    blocks: Sequence[Block], fleet: list[str], date: str, config: SimulatorConfig,
) -> pd.DataFrame:
    return blocks_to_frame(blocks, fleet, date, "r_date", LAYOUT, config.day_seconds, config.drive_interval)


def generate_drive_day(
    fleet: list[str], date: str, seed: int, config: SimulatorConfig | None = None,
) -> pd.DataFrame:
    """The day's driving events (8 columns in file order, rows by time then car).

    Pedals and speed are unsigned integers; r_date, car_number, steer_angle, direct_light and
    area_number are categoricals of their text values.
    """
    config = config or SimulatorConfig()
    return drive_frame(list(drive_blocks(fleet, date, seed, config)), fleet, date, config)


def encode_drive_block(block: Block, date: str, fleet: list[str]) -> bytes:
    return encode_block(block, date, fleet, LAYOUT)


def iter_drive_chunks(
    fleet: list[str], date: str, seed: int, config: SimulatorConfig | None = None,
) -> Iterator[tuple[bytes, int]]:
    """(text, lines) per block of ``BLOCK_SECONDS`` simulated seconds, in time order.

    Lines end with ``\\n``; the car number of a line is always ``line[15:20]``.
    """
    for block in drive_blocks(fleet, date, seed, config):
        yield encode_drive_block(block, date, fleet), block.rows


def iter_drive_events(
    fleet: list[str], date: str, seed: int, config: SimulatorConfig | None = None,
) -> Iterator[str]:
    """The day's event lines (without line ending) in time order, generated a block at a time."""
    for text, _ in iter_drive_chunks(fleet, date, seed, config):
        yield from text.decode("ascii").splitlines()


def write_drive_day(
    out_dir: str | Path,
    fleet: list[str],
    date: str,
    seed: int,
    config: SimulatorConfig | None = None,
    progress: Progress | None = None,
    keep: list[Block] | None = None,
    plan: DrivePlan | None = None,
) -> WriteResult:
    """Write ``SmartCarDrivingInfo_<date>.txt`` into ``out_dir``; blocks are appended to ``keep``."""
    return write_blocks(Path(out_dir) / drive_file_name(date), drive_blocks(fleet, date, seed, config, plan),
                        partial(encode_drive_block, date=date, fleet=fleet), progress, keep)
