"""The daily status log: one line per car every few seconds, with sticky device failures.

A failure plan fixes, per car and device, the step at which the device fails (or never). From
that step on the device reads failed for the rest of the day: a light ``2``, engine or brake
``C``, a tyre below 80, a battery below 30. Healthy devices read mostly good values with some
noise (tyres and battery sometimes 70–79 / 50–79, rarely lower; engine and brake sometimes
``B``) but never a failure code.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from ingest.records import DEVICE_CODES, LIGHT_CODES, STATUS_FIELDS
from ingest.simulator.blocks import Block, Layout, blocks_to_frame, day_blocks, encode_block
from ingest.simulator.config import SimulatorConfig
from ingest.simulator.fleet import MAX_CARS, fleet_indices
from ingest.simulator.output import WriteResult, write_blocks
from ingest.simulator.progress import Progress
from ingest.simulator.seeding import Stream, date_key, rng

TIRES = STATUS_FIELDS[2:6]
LIGHTS = STATUS_FIELDS[6:10]
LAYOUT: Layout = (
    *((name, None) for name in TIRES),
    *((name, LIGHT_CODES) for name in LIGHTS),
    ("engine", DEVICE_CODES),
    ("break", DEVICE_CODES),
    ("battery", None),
)
CAUTION_RATE = 0.02
_LUT_SIZE = 1000


def status_file_name(date: str) -> str:
    return f"SmartCarStatusInfo_{date}.txt"


def _lookup(parts: Sequence[tuple[int, int, int]]) -> np.ndarray:
    """A sampling table: ``count`` entries spread evenly over ``low..high`` for each part."""
    table = np.concatenate([
        np.linspace(low, high + 1, count, endpoint=False).astype(np.uint8) for count, low, high in parts
    ])
    if len(table) != _LUT_SIZE:
        raise ValueError("sampling table must have 1000 entries")
    return table


TIRE_OK = _lookup([(940, 80, 100), (50, 70, 79), (10, 0, 69)])
TIRE_FAILED = _lookup([(1000, 30, 79)])
BATTERY_OK = _lookup([(940, 80, 100), (50, 50, 79), (10, 0, 49)])
BATTERY_FAILED = _lookup([(1000, 0, 29)])


@dataclass(frozen=True)
class FailurePlan:
    """Step index (of the status interval) at which each device fails; ``steps`` means never."""

    steps: int
    tires: np.ndarray
    lights: np.ndarray
    engine: np.ndarray
    brake: np.ndarray
    battery: np.ndarray


def day_steps(config: SimulatorConfig) -> int:
    return config.day_seconds // config.status_interval


def plan_failures(fleet: list[str], date: str, seed: int, config: SimulatorConfig) -> FailurePlan:
    """Which devices fail when; drawn per car so a car's plan does not depend on the fleet size."""
    steps = day_steps(config)
    gen = rng(seed, Stream.FAILURES, date_key(date))
    rows = fleet_indices(fleet)

    def onsets(rate: float, per_car: int) -> np.ndarray:
        fails = gen.random((MAX_CARS, per_car)) < rate
        onset = gen.integers(0, steps, (MAX_CARS, per_car))
        return np.where(fails, onset, steps)[rows]

    return FailurePlan(
        steps=steps,
        tires=onsets(config.tire_failure_rate, 4),
        lights=onsets(config.light_failure_rate, 4),
        engine=onsets(config.engine_failure_rate, 1)[:, 0],
        brake=onsets(config.brake_failure_rate, 1)[:, 0],
        battery=onsets(config.battery_failure_rate, 1)[:, 0],
    )


def _block(
    plan: FailurePlan, cars: int, first: int, last: int, gen: np.random.Generator,
) -> dict[str, np.ndarray]:
    step = np.arange(first, last)[:, None]
    shape = (last - first, cars)
    columns: dict[str, np.ndarray] = {}
    draws = gen.integers(0, _LUT_SIZE, (5, *shape), dtype=np.int16)
    for index, name in enumerate(TIRES):
        failed = step >= plan.tires[:, index]
        columns[name] = np.where(failed, TIRE_FAILED[draws[index]], TIRE_OK[draws[index]])
    for index, name in enumerate(LIGHTS):
        columns[name] = (step >= plan.lights[:, index]).astype(np.uint8)
    caution = gen.random((2, *shape), dtype=np.float32) < CAUTION_RATE
    columns["engine"] = np.where(step >= plan.engine, 2, caution[0]).astype(np.uint8)
    columns["break"] = np.where(step >= plan.brake, 2, caution[1]).astype(np.uint8)
    columns["battery"] = np.where(step >= plan.battery, BATTERY_FAILED[draws[4]], BATTERY_OK[draws[4]])
    return columns


def status_blocks(
    fleet: list[str], date: str, seed: int, config: SimulatorConfig | None = None,
) -> Iterator[Block]:
    """The day in blocks of ``BLOCK_SECONDS``; each block has its own random stream."""
    config = config or SimulatorConfig()
    plan = plan_failures(fleet, date, seed, config)
    columns = partial(_block, plan, len(fleet))
    yield from day_blocks(seed, Stream.STATUS_BLOCK, date, plan.steps, config.status_interval, columns)


def status_frame(
    blocks: Sequence[Block], fleet: list[str], date: str, config: SimulatorConfig,
) -> pd.DataFrame:
    return blocks_to_frame(blocks, fleet, date, "reg_date", LAYOUT, config.day_seconds,
                           config.status_interval)


def generate_status_day(
    fleet: list[str], date: str, seed: int, config: SimulatorConfig | None = None,
) -> pd.DataFrame:
    """The day's status records (13 columns in file order, rows by time then car).

    Numeric fields are unsigned integers; reg_date, car_number, lights, engine and break are
    categoricals of their text values.
    """
    config = config or SimulatorConfig()
    return status_frame(list(status_blocks(fleet, date, seed, config)), fleet, date, config)


def encode_status_block(block: Block, date: str, fleet: list[str]) -> bytes:
    return encode_block(block, date, fleet, LAYOUT)


def write_status_day(
    out_dir: str | Path,
    fleet: list[str],
    date: str,
    seed: int,
    config: SimulatorConfig | None = None,
    progress: Progress | None = None,
    keep: list[Block] | None = None,
) -> WriteResult:
    """Write ``SmartCarStatusInfo_<date>.txt`` into ``out_dir``; blocks are appended to ``keep``."""
    return write_blocks(Path(out_dir) / status_file_name(date), status_blocks(fleet, date, seed, config),
                        partial(encode_status_block, date=date, fleet=fleet), progress, keep)
