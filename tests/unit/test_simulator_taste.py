"""Planted taste: favourites from the profile with noise, bought more often and rated higher, and
listed in the ground truth (DOMAIN "Analysis")."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ingest.simulator import SimulatorConfig, make_buy_list, make_car_master, make_fleet, simulate_day
from ingest.simulator.taste import FAVOURITES_PER_CAR, age_band_index, favourite_items


def test_favourites_are_distinct_deterministic_and_independent_of_the_fleet_size() -> None:
    small, large = make_fleet(10, 7), make_fleet(200, 7)
    assert set(small) <= set(large)
    master_small, master_large = make_car_master(small, 7), make_car_master(large, 7)
    of_small, of_large = favourite_items(master_small, 7), favourite_items(master_large, 7)
    assert all(len(set(items)) == FAVOURITES_PER_CAR for items in of_large.values())
    # as the master's other attributes; only the minors (the youngest share of a fleet) move
    age_small = dict(zip(master_small["car_number"], master_small["age"], strict=True))
    age_large = dict(zip(master_large["car_number"], master_large["age"], strict=True))
    same_age = [car for car in small if age_small[car] == age_large[car]]
    assert len(same_age) >= 8
    assert {car: of_large[car] for car in same_age} == {car: of_small[car] for car in same_age}
    assert favourite_items(make_car_master(large, 7), 7) == of_large
    assert favourite_items(make_car_master(large, 8), 8) != of_large


def test_cars_of_one_profile_group_share_most_favourites() -> None:
    fleet = make_fleet(2600, 3)
    master = make_car_master(fleet, 3)
    favourites = favourite_items(master, 3)
    group = list(zip(age_band_index(master["age"].to_numpy()), master["car_model"], strict=True))
    same, other = [], []
    cars = list(master["car_number"])
    for i in range(0, 2000, 7):
        for j in range(i + 1, i + 40):
            overlap = len(set(favourites[cars[i]]) & set(favourites[cars[j]]))
            (same if group[i] == group[j] else other).append(overlap)
    assert np.mean(same) > 1.5 > 0.5 > np.mean(other)  # noise, not chaos; groups differ


def test_favourites_are_bought_more_often_and_rated_higher_but_not_all_every_month() -> None:
    fleet = make_fleet(100, 5)
    master = make_car_master(fleet, 5)
    favourites = favourite_items(master, 5)
    bought = make_buy_list(fleet, "202003", 5, master=master)
    liked = np.array([item in favourites[car] for car, item in zip(bought["car_number"], bought["item"],
                                                                  strict=True)])
    assert liked.mean() > 0.35  # a random item would be a favourite 10 % of the time
    assert bought["score"][liked].mean() > bought["score"][~liked].mean() + 0.5
    pairs = {(car, item) for car, items in favourites.items() for item in items}
    unbought = pairs - set(zip(bought["car_number"], bought["item"], strict=True))
    assert len(unbought) > 0.2 * len(pairs)  # left for a recommender to find


def test_the_ground_truth_lists_every_cars_favourites(tmp_path: Path) -> None:
    result = simulate_day(tmp_path, "20200322", cars=6, seed=9, config=SimulatorConfig(day_seconds=60),
                          only=["master", "buylist", "truth"])
    truth = json.loads(Path(next(f["path"] for f in result["files"] if f["kind"] == "truth")).read_text())
    expected = favourite_items(make_car_master(make_fleet(6, 9), 9, SimulatorConfig().minor_share), 9)
    assert {car: facts["favourite_items"] for car, facts in truth["cars"].items()} == expected
