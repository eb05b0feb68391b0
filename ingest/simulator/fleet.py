"""The fleet (which car numbers exist), the car master and the monthly purchase list.

Every per-car attribute is drawn for all 2,600 possible cars at once and then selected, so a
car's master row does not depend on the fleet size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ingest.records import BUYLIST_FIELDS, CAR_LETTERS, CARS_PER_LETTER, MASTER_FIELDS
from ingest.simulator.output import WriteResult, write_chunks
from ingest.simulator.seeding import Stream, parse_date, rng

MAX_CARS = len(CAR_LETTERS) * CARS_PER_LETTER
SEXES = ("남", "여")
MARRIAGE = ("기혼", "미혼")
REGIONS = (
    "서울", "경기", "인천", "강원", "충북", "충남", "대전", "경북", "경남", "대구", "전북", "전남", "울산",
    "부산", "광주", "제주", "세종",
)
JOBS = ("회사원", "공무원", "개인사업", "전문직", "프리랜서", "주부", "학생")
CAPACITIES = (1000, 1200, 1500, 1700, 2000, 2500, 3000, 3500)
MODELS = tuple("ABCDEFGH")
ITEMS = tuple(f"Item-{i:03d}" for i in range(1, 31))
MASTER_FILE = "CarMaster.txt"
FULL_FLEET_BUYLIST_ROWS = 100_000


def car_number(index: int) -> str:
    return f"{CAR_LETTERS[index // CARS_PER_LETTER]}{index % CARS_PER_LETTER + 1:04d}"


def car_index(number: str) -> int:
    return CAR_LETTERS.index(number[0]) * CARS_PER_LETTER + int(number[1:]) - 1


def make_fleet(n_cars: int, seed: int) -> list[str]:
    """``n_cars`` distinct car numbers, sorted; with one seed, a smaller fleet is part of a larger one."""
    if not 1 <= n_cars <= MAX_CARS:
        raise ValueError(f"cars must be 1..{MAX_CARS}, got {n_cars}")
    order = rng(seed, Stream.FLEET).permutation(MAX_CARS)[:n_cars]
    return [car_number(int(index)) for index in np.sort(order)]


def fleet_indices(fleet: list[str]) -> np.ndarray:
    return np.array([car_index(car) for car in fleet], dtype=np.intp)


def smallest_share(scores: np.ndarray, share: float) -> np.ndarray:
    """Boolean mask of the round(share * n) entries with the lowest score."""
    count = round(share * len(scores))
    mask = np.zeros(len(scores), dtype=bool)
    mask[np.argsort(scores, kind="stable")[:count]] = True
    return mask


def make_car_master(fleet: list[str], seed: int, minor_share: float = 0.05) -> pd.DataFrame:
    """One row per fleet car (typed columns); adults (age >= 18) are the large majority."""
    gen = rng(seed, Stream.MASTER)
    every = {
        "minor_score": gen.random(MAX_CARS),
        "sex": gen.choice(len(SEXES), MAX_CARS, p=[0.6, 0.4]),
        "adult_age": gen.integers(18, 71, MAX_CARS),
        "minor_age": gen.integers(15, 18, MAX_CARS),
        "married_draw": gen.random(MAX_CARS),
        "region": gen.choice(len(REGIONS), MAX_CARS),
        "job": gen.choice(len(JOBS), MAX_CARS, p=[0.35, 0.12, 0.15, 0.12, 0.1, 0.1, 0.06]),
        "capacity": gen.choice(len(CAPACITIES), MAX_CARS),
        "year": gen.integers(2000, 2017, MAX_CARS),
        "model": gen.choice(len(MODELS), MAX_CARS),
    }
    rows = fleet_indices(fleet)
    picked = {name: values[rows] for name, values in every.items()}
    minor = smallest_share(picked["minor_score"], minor_share)
    age = np.where(minor, picked["minor_age"], picked["adult_age"])
    married = picked["married_draw"] < np.clip((age - 22) / 25, 0.0, 0.85)
    job = np.where(minor, JOBS.index("학생"), picked["job"])
    return pd.DataFrame({
        "car_number": fleet,
        "sex": np.array(SEXES)[picked["sex"]],
        "age": age.astype(np.int64),
        "marriage": np.where(married, MARRIAGE[0], MARRIAGE[1]),
        "region": np.array(REGIONS)[picked["region"]],
        "job": np.array(JOBS)[job],
        "car_capacity": np.array(CAPACITIES)[picked["capacity"]],
        "car_year": picked["year"].astype(np.int64),
        "car_model": np.array(MODELS)[picked["model"]],
    }, columns=list(MASTER_FIELDS))


def _write_rows(path: str | Path, frame: pd.DataFrame, separator: str) -> WriteResult:
    columns = [frame[name].astype(str).to_numpy() for name in frame.columns]
    text = "".join(separator.join(values) + "\n" for values in zip(*columns, strict=True))
    return write_chunks(path, [(text.encode("utf-8"), len(frame))])


def write_car_master(
    path: str | Path, fleet: list[str], seed: int, minor_share: float = 0.05,
) -> WriteResult:
    """Write ``CarMaster.txt`` (``|``-separated, no header, exactly the fleet's cars)."""
    return _write_rows(path, make_car_master(fleet, seed, minor_share), "|")


def buylist_file_name(month: str) -> str:
    return f"CarItemBuyList_{month}.txt"


def default_buylist_rows(n_cars: int) -> int:
    return max(n_cars, round(FULL_FLEET_BUYLIST_ROWS * n_cars / MAX_CARS))


def make_buy_list(
    fleet: list[str], month: str, seed: int, rows: int | None = None, master: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """A month of purchases by fleet cars: popular items and keen buyers are skewed, and every car
    buys its favourite items (:mod:`ingest.simulator.taste`) more often and rates them higher."""
    from ingest.simulator.taste import FAVOURITE_SCORES, FAVOURITE_SHARE, OTHER_SCORES, favourite_matrix

    parse_date(month + "01")
    rows = default_buylist_rows(len(fleet)) if rows is None else rows
    master = make_car_master(fleet, seed) if master is None else master
    favourites = favourite_matrix(master.set_index("car_number").loc[fleet].reset_index(), seed)
    gen = rng(seed, Stream.BUYLIST, int(month))
    keenness = gen.gamma(0.5, size=len(fleet))  # most cars buy a few items, a few buy many
    popularity = 1.0 / np.arange(1, len(ITEMS) + 1) ** 0.8
    popularity = popularity[gen.permutation(len(ITEMS))]
    cars = gen.choice(len(fleet), rows, p=keenness / keenness.sum())
    liked = gen.random(rows) < FAVOURITE_SHARE
    favourite = favourites[cars, gen.integers(0, favourites.shape[1], rows)]
    items = np.where(liked, favourite, gen.choice(len(ITEMS), rows, p=popularity / popularity.sum()))
    scores = np.where(liked, gen.choice(5, rows, p=FAVOURITE_SCORES), gen.choice(5, rows, p=OTHER_SCORES)) + 1
    return pd.DataFrame({
        "car_number": np.array(fleet)[cars],
        "item": np.array(ITEMS)[items],
        "score": scores.astype(np.int64),
        "month": month,
    }, columns=list(BUYLIST_FIELDS))


def write_buy_list(
    path: str | Path, fleet: list[str], month: str, seed: int, rows: int | None = None,
    master: pd.DataFrame | None = None,
) -> WriteResult:
    """Write ``CarItemBuyList_<yyyyMM>.txt`` (comma-separated, no header)."""
    return _write_rows(path, make_buy_list(fleet, month, seed, rows, master), ",")
