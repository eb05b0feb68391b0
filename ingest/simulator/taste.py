"""Planted taste: every car's favourite items, from its profile, so recommendations can be judged.

Each (age band, car model) group of cars likes ``FAVOURITES_PER_CAR`` items, drawn once per seed;
a car keeps its group's favourites except that each one is, with probability ``NOISE``, swapped
for another item of its own. Purchases pick a favourite ``FAVOURITE_SHARE`` of the time and score
it higher (:func:`ingest.simulator.fleet.make_buy_list`); the ground truth lists every car's
favourites. Like the master, a car's favourites do not depend on the fleet size.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ingest.simulator.fleet import ITEMS, MAX_CARS, MODELS, fleet_indices
from ingest.simulator.seeding import Stream, rng

FAVOURITES_PER_CAR = 3
FAVOURITE_SHARE = 0.4  # share of a car's purchases that are one of its favourites
NOISE = 0.2  # chance that a favourite is the car's own rather than its group's
AGE_BAND_STARTS = (30, 40, 50, 60)  # bands 18-29 (minors too), 30-39, 40-49, 50-59, 60+
FAVOURITE_SCORES = (0.0, 0.02, 0.08, 0.4, 0.5)  # P(score 1..5) of a favourite
OTHER_SCORES = (0.05, 0.1, 0.2, 0.35, 0.3)


def age_band_index(ages: np.ndarray) -> np.ndarray:
    return np.searchsorted(np.array(AGE_BAND_STARTS), ages, side="right")


def favourite_matrix(master: pd.DataFrame, seed: int) -> np.ndarray:
    """Item indices (into :data:`ITEMS`), one row of ``FAVOURITES_PER_CAR`` per master row."""
    gen = rng(seed, Stream.TASTE)
    groups = (len(AGE_BAND_STARTS) + 1) * len(MODELS)
    group_favourites = np.array([gen.choice(len(ITEMS), FAVOURITES_PER_CAR, replace=False)
                                 for _ in range(groups)])
    swap = gen.random((MAX_CARS, FAVOURITES_PER_CAR)) < NOISE
    own = gen.integers(0, len(ITEMS), (MAX_CARS, FAVOURITES_PER_CAR))
    rows = fleet_indices(list(master["car_number"]))
    band = age_band_index(master["age"].to_numpy())
    model = np.array([MODELS.index(m) for m in master["car_model"]])
    favourites = group_favourites[band * len(MODELS) + model].copy()
    swap, own = swap[rows], own[rows]
    for slot in range(FAVOURITES_PER_CAR):  # a car's favourites stay distinct
        fresh = swap[:, slot] & ~(favourites == own[:, [slot]]).any(axis=1)
        favourites[fresh, slot] = own[fresh, slot]
    return favourites


def favourite_items(master: pd.DataFrame, seed: int) -> dict[str, list[str]]:
    """car number -> its favourite items (sorted)."""
    matrix = favourite_matrix(master, seed)
    return {car: sorted(ITEMS[i] for i in row) for car, row in zip(master["car_number"], matrix, strict=True)}
