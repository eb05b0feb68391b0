"""The day's driving plan: for every car, runs of constant pedal behaviour covering the day.

Speed is the running total of pedal effects, clipped to 0..250 (see :func:`next_speed`). To keep
that exact and still vectorised, each car's day is cut into phases (1–6 minutes; wild drivers
1–3) with a target speed each: a stop (0), a congested area (5–30), an overspeed episode
(90–150) or the driver's cruise speed. A phase ramps from the previous target to its own with
whole pedal steps — full steps at the chosen accelerator or brake level, then +2 steps and -1
coasting steps for the remainder, landing exactly on the target — and holds it: accelerator 1
(no change) when moving, the brake when stopped, or, for wild drivers, pumping the accelerator
and the brake alternately. Every run is a constant or alternating pedal pattern, so speeds and
pedals of any time span follow from the runs in closed form (no per-record loop).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingest.records import SPEED_RANGE
from ingest.simulator.config import SimulatorConfig
from ingest.simulator.profiles import Profiles, driver_profiles
from ingest.simulator.seeding import Stream, date_key, rng

ACCEL_EFFECT = np.array([0, 0, 2, 4, 6, 8])
BRAKE_EFFECT = np.array([0, 4, 8, 12])
COAST_EFFECT = -1
SHORTEST_PHASE = 30
AREA_SECONDS = (1800, 5400)
MAX_EPISODES = 24
AREAS = tuple(f"{letter}{number:02d}" for letter in "ABCDEF" for number in range(1, 11))
_RUNS_PER_PHASE = 5


def pedal_effect(speed_pedal: np.ndarray, break_pedal: np.ndarray) -> np.ndarray:
    """Speed change of one step: accelerator 1..5 -> 0,+2,+4,+6,+8; brake 1..3 -> -4,-8,-12; none -> -1."""
    speed_pedal = np.asarray(speed_pedal, dtype=np.intp)
    break_pedal = np.asarray(break_pedal, dtype=np.intp)
    return np.where(
        speed_pedal > 0, ACCEL_EFFECT[speed_pedal],
        np.where(break_pedal > 0, -BRAKE_EFFECT[break_pedal], COAST_EFFECT),
    )


def next_speed(speed: np.ndarray, speed_pedal: np.ndarray, break_pedal: np.ndarray) -> np.ndarray:
    return np.clip(np.asarray(speed) + pedal_effect(speed_pedal, break_pedal), *SPEED_RANGE)


@dataclass(frozen=True)
class DrivePlan:
    steps: int
    cars: int
    run_start: np.ndarray
    base: np.ndarray
    slope: np.ndarray
    alternating: np.ndarray
    acc_even: np.ndarray
    brk_even: np.ndarray
    acc_odd: np.ndarray
    brk_odd: np.ndarray
    area_start: np.ndarray
    area_code: np.ndarray
    congested: np.ndarray
    profiles: Profiles


def _exclusive_cumsum(values: np.ndarray) -> np.ndarray:
    return np.cumsum(values, axis=1) - values


def _rowwise_searchsorted(starts: np.ndarray, queries: np.ndarray) -> np.ndarray:
    span = int(max(starts.max(), queries.max())) + 1
    offsets = np.arange(starts.shape[0])[:, None] * span
    found = np.searchsorted((starts + offsets).ravel(), (queries + offsets).ravel(), side="right") - 1
    return found.reshape(queries.shape) - offsets // span * starts.shape[1]


def congested_areas(seed: int, date: str, config: SimulatorConfig) -> np.ndarray:
    """A boolean mask over :data:`AREAS`; exactly round(share * 60) areas are congested."""
    mask = np.zeros(len(AREAS), dtype=bool)
    chosen = rng(seed, Stream.CONGESTION, date_key(date)).permutation(len(AREAS))
    mask[chosen[: round(config.congested_share * len(AREAS))]] = True
    return mask


def _first_fitting(lengths: np.ndarray, preferred: np.ndarray, duration: np.ndarray) -> np.ndarray:
    """Index of the gentlest level at or above the preferred one whose ramp fits in the phase."""
    levels = np.arange(lengths.shape[-1])
    fits = (levels >= preferred[:, None, None]) & (lengths <= duration[..., None])
    return np.where(fits.any(-1), fits.argmax(-1), levels[-1])


def _pick(table: np.ndarray, index: np.ndarray) -> np.ndarray:
    return np.take_along_axis(table, index[..., None], axis=-1)[..., 0]


def _targets(
    gen: np.random.Generator, profiles: Profiles, starts: np.ndarray, jam: np.ndarray,
    steps: int, config: SimulatorConfig,
) -> np.ndarray:
    cars, phases = starts.shape
    wild = profiles.wild[:, None]
    cruise = np.rint(gen.normal(profiles.cruise_mean[:, None], np.where(wild, 18, 12), (cars, phases)))
    cruise = np.clip(cruise, np.where(wild, 20, 15), np.where(wild, 115, 80))
    crawl = gen.integers(5, 31, (cars, phases))
    fast = gen.integers(90, 151, (cars, phases))
    stop = gen.random((cars, phases)) < np.where(jam, 0.3, 0.1)

    rate = np.where(profiles.wild, 2.0, np.where(profiles.prone, 1.0, 0.0)) * config.overspeed_episodes
    count = np.minimum(gen.poisson(rate), MAX_EPISODES)
    first = gen.integers(0, steps, (cars, MAX_EPISODES))
    per_minute = 60 // config.drive_interval or 1
    length = gen.integers(2 * per_minute, config.overspeed_minutes * per_minute + 1, (cars, MAX_EPISODES))
    valid = np.arange(MAX_EPISODES) < count[:, None]
    at = starts[:, :, None]
    speeding = (
        (at >= first[:, None, :]) & (at < (first + length)[:, None, :]) & valid[:, None, :]
    ).any(-1)
    return np.where(stop, 0, np.where(jam, crawl, np.where(speeding, fast, cruise))).astype(np.int64)


def _areas(
    gen: np.random.Generator, profiles: Profiles, steps: int, config: SimulatorConfig,
) -> tuple[np.ndarray, np.ndarray]:
    cars = len(profiles.wild)
    segments = config.day_seconds // AREA_SECONDS[0] + 2
    seconds = gen.integers(AREA_SECONDS[0], AREA_SECONDS[1] + 1, (cars, segments))
    lengths = np.maximum(seconds // config.drive_interval, 1)
    numbers = gen.integers(0, 10, (cars, segments))
    return _exclusive_cumsum(lengths), profiles.area_letter[:, None] * 10 + numbers


def plan_drive(fleet: list[str], date: str, seed: int, config: SimulatorConfig | None = None) -> DrivePlan:
    config = config or SimulatorConfig()
    profiles = driver_profiles(fleet, seed, config)
    steps = config.day_seconds // config.drive_interval
    cars, phases = len(fleet), steps // SHORTEST_PHASE + 2
    gen = rng(seed, Stream.DRIVE_PLAN, date_key(date))

    span = profiles.longest_phase[:, None] - SHORTEST_PHASE + 1
    duration = SHORTEST_PHASE + (gen.random((cars, phases)) * span).astype(np.int64)
    starts = _exclusive_cumsum(duration)
    area_starts, area_codes = _areas(gen, profiles, steps, config)
    congested = congested_areas(seed, date, config)
    jam = congested[np.take_along_axis(area_codes, _rowwise_searchsorted(area_starts, starts), axis=1)]
    target = _targets(gen, profiles, starts, jam, steps, config)
    previous = np.concatenate([np.zeros((cars, 1), np.int64), target[:, :-1]], axis=1)
    delta = target - previous

    up_gain = ACCEL_EFFECT[2:]
    rise = np.maximum(delta, 0)[..., None]
    full_up, rest = rise // up_gain, rise % up_gain
    halves, odd = rest // 2, rest % 2
    up_level = _first_fitting(full_up + halves + 2 * odd, profiles.accel_level - 2, duration)
    full_up, halves, odd = (_pick(a, up_level) for a in (full_up, halves, odd))

    down_gain = BRAKE_EFFECT[1:]
    fall = np.maximum(-delta, 0)[..., None]
    full_down, coast_down = fall // down_gain, fall % down_gain
    down_level = _first_fitting(full_down + coast_down, profiles.brake_level - 1, duration)
    full_down, coast_down = _pick(full_down, down_level), _pick(coast_down, down_level)

    up, down, moving = delta > 0, delta < 0, target > 0
    accel, brake = up_level + 2, down_level + 1
    ramp = [
        np.where(up, full_up, np.where(down, full_down, 0)),
        np.where(up, halves + odd, 0),
        np.where(up, odd, np.where(down, coast_down, 0)),
    ]
    hold = duration - sum(ramp)
    if (hold < 0).any():
        raise AssertionError("a ramp does not fit its phase")
    pump = moving & (gen.random((cars, phases)) < profiles.pump_prob[:, None])
    hold_acc = moving.astype(np.int64)
    hold_brk = np.where(moving, 0, profiles.stop_brake[:, None])
    pump_acc = np.broadcast_to(profiles.pump_accel[:, None], delta.shape)
    pump_brk = np.broadcast_to(profiles.pump_brake[:, None], delta.shape)
    zero = np.zeros_like(delta)

    def runs(*columns: np.ndarray) -> np.ndarray:
        return np.stack(np.broadcast_arrays(*columns), axis=-1).reshape(cars, -1)

    count = runs(*ramp, np.where(pump, hold - hold % 2, hold), np.where(pump, hold % 2, 0))
    slope = runs(
        np.where(up, ACCEL_EFFECT[accel], -BRAKE_EFFECT[brake]), zero + 2, zero + COAST_EFFECT,
        np.where(pump, ACCEL_EFFECT[pump_acc], 0), zero,
    )
    alternating = runs(zero, zero, zero, pump, zero).astype(bool)
    acc_even = runs(np.where(up, accel, 0), zero + 2, zero, np.where(pump, pump_acc, hold_acc), hold_acc)
    brk_even = runs(np.where(up, 0, brake), zero, zero, np.where(pump, 0, hold_brk), hold_brk)
    acc_odd = np.where(alternating, 0, acc_even)
    brk_odd = np.where(alternating, runs(zero, zero, zero, pump_brk, zero), brk_even)

    base = _exclusive_cumsum(np.where(alternating, 0, slope * count))
    start = np.minimum(_exclusive_cumsum(count), steps)
    end = np.minimum(start + count, steps)
    keep = end > start
    offsets = np.arange(cars)[:, None] * steps
    area_keep = area_starts < steps
    return DrivePlan(
        steps=steps,
        cars=cars,
        run_start=(start + offsets)[keep],
        base=base[keep].astype(np.int16),
        slope=slope[keep].astype(np.int16),
        alternating=alternating[keep],
        acc_even=acc_even[keep].astype(np.uint8),
        brk_even=brk_even[keep].astype(np.uint8),
        acc_odd=acc_odd[keep].astype(np.uint8),
        brk_odd=brk_odd[keep].astype(np.uint8),
        area_start=(area_starts + offsets)[area_keep],
        area_code=area_codes[area_keep].astype(np.uint8),
        congested=congested,
        profiles=profiles,
    )
