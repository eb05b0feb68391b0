"""The pandas oracle itself agrees with the simulator's ground truth (no services needed), so that
the integration tests compare Hive with something trustworthy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ingest.simulator import SimulatorConfig, simulate_day
from tests.oracles import marts as oracle
from tests.support.devdata import Realism, write_layout

DATE = "20200322"


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    import json

    work = tmp_path_factory.mktemp("oracle")
    simulate_day(work / "sim", DATE, cars=15, seed=5, config=SimulatorConfig(day_seconds=1800))
    realism = Realism(late_share=0.2, duplicate_share=0.1, neighbour_rows=30, in_flight_file=True)
    write_layout(work / "sim", work / "layout", DATE, realism)
    truth = json.loads((work / "sim" / f"ground_truth_{DATE}.json").read_text())
    return work / "layout", truth


def test_layout_has_late_rows_duplicates_and_neighbours(layout: tuple[Path, dict[str, Any]]) -> None:
    folder, _ = layout
    late = (folder / "car-batch-log" / "wrk_date=20200323" / "part-00000.txt").read_text().splitlines()
    assert any(line.startswith(DATE) for line in late) and any(line.startswith("20200323") for line in late)
    assert all(line.endswith(",20200323") for line in late)
    assert (folder / "car-batch-log" / f"wrk_date={DATE}" / "_in_flight.txt.tmp").exists()


def test_oracle_status_and_checks_match_truth(layout: tuple[Path, dict[str, Any]]) -> None:
    folder, truth = layout
    status = oracle.status_mart(folder, DATE)
    adults = {car for car, f in truth["cars"].items() if f["adult"]}
    assert set(status["car_number"]) == adults
    assert len(status) == sum(truth["cars"][c]["status_records"] for c in adults)
    emergency = oracle.emergency_mart(status).set_index("car_number")
    expected = {
        car: truth["cars"][car]["failed_checks"] for car in adults if truth["cars"][car]["failed_checks"]
    }
    assert {car: emergency.loc[car, "checks"] for car in emergency.index} == expected


def test_oracle_symptoms_match_truth(layout: tuple[Path, dict[str, Any]]) -> None:
    folder, truth = layout
    symptom = oracle.symptom_mart(oracle.drive_mart(folder, DATE)).set_index("car_number")
    for car, facts in truth["cars"].items():
        if not facts["adult"]:
            assert car not in symptom.index
            continue
        row = symptom.loc[car]
        assert row["sharp_turns"] == facts["sharp_turns"]
        assert abs(row["speed_pedal_z"] - facts["symptom"]["speed_pedal_z"]) < 1e-9
        for label in ("speed_pedal_symptom", "break_pedal_symptom", "sharp_turn_symptom"):
            assert row[label] == facts["symptom"][label]


def test_oracle_buylist_keeps_adult_rows_of_the_month(layout: tuple[Path, dict[str, Any]]) -> None:
    folder, truth = layout
    frame = oracle.buylist_mart(folder, DATE[:6])
    adults = {car for car, f in truth["cars"].items() if f["adult"]}
    assert len(frame) > 0 and set(frame["car_number"]) <= adults
    assert frame["score"].between(1, 5).all()
