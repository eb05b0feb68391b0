"""Driver profiles: who drives wild, who never steers sharply, who tends to speed.

Profiles depend on the seed and the car only (not on the date): a wild driver is wild every day.
Continuous traits are drawn for all 2,600 cars and selected; the wild, calm and speeding groups
are exact shares of the fleet (rounded), picked by a per-car score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingest.simulator.config import SimulatorConfig
from ingest.simulator.fleet import MAX_CARS, fleet_indices
from ingest.simulator.seeding import Stream, rng


@dataclass(frozen=True)
class Profiles:
    wild: np.ndarray
    calm: np.ndarray
    prone: np.ndarray
    area_letter: np.ndarray
    cruise_mean: np.ndarray
    accel_level: np.ndarray
    brake_level: np.ndarray
    longest_phase: np.ndarray
    pump_prob: np.ndarray
    pump_accel: np.ndarray
    pump_brake: np.ndarray
    stop_brake: np.ndarray
    turn_share: np.ndarray
    sharp_share: np.ndarray
    signal_agree: np.ndarray


def _pick(scores: np.ndarray, count: int, excluded: np.ndarray) -> np.ndarray:
    ranked = np.where(excluded, np.inf, scores)
    mask = np.zeros(len(scores), dtype=bool)
    mask[np.argsort(ranked, kind="stable")[:count]] = True
    return mask & ~excluded


def driver_profiles(fleet: list[str], seed: int, config: SimulatorConfig) -> Profiles:
    gen = rng(seed, Stream.PROFILE)
    rows = fleet_indices(fleet)

    def draw(low: float, high: float) -> np.ndarray:
        return gen.uniform(low, high, MAX_CARS)[rows]

    def choose(options: tuple[int, ...]) -> np.ndarray:
        return gen.choice(np.array(options), MAX_CARS)[rows]

    cars = len(fleet)
    nobody = np.zeros(cars, dtype=bool)
    scores = gen.random((3, MAX_CARS))[:, rows]
    wild = _pick(scores[0], round(config.wild_share * cars), nobody)
    calm = _pick(scores[1], round(config.calm_share * cars), wild)
    prone = _pick(scores[2], round(config.overspeed_share * (cars - wild.sum())), wild)
    pump_accel = choose((3, 5))
    return Profiles(
        wild=wild,
        calm=calm,
        prone=prone,
        area_letter=choose(tuple(range(6))),
        cruise_mean=np.where(wild, draw(60, 90), draw(40, 65)),
        accel_level=np.where(wild, choose((4, 5)), choose((2, 3))),
        brake_level=np.where(wild, choose((2, 3)), choose((1, 2))),
        longest_phase=np.where(wild, 90, 180),
        pump_prob=np.where(wild, draw(0.4, 0.9), 0.0),
        pump_accel=pump_accel,
        pump_brake=np.where(pump_accel == 5, 2, 1),
        stop_brake=np.where(wild, choose((2, 3)), 1),
        turn_share=np.where(wild, draw(0.45, 0.6), draw(0.12, 0.25)),
        sharp_share=np.where(wild, draw(0.22, 0.45), np.where(calm, 0.0, draw(0.02, 0.08))),
        signal_agree=np.where(wild, draw(0.2, 0.5), draw(0.9, 0.99)),
    )
