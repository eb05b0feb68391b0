"""Seeded, vectorised smart-car fleet simulator (see DOMAIN.md for the records it writes)."""

from ingest.simulator.config import SimulatorConfig
from ingest.simulator.driving import generate_drive_day, iter_drive_chunks, iter_drive_events, write_drive_day
from ingest.simulator.fleet import (
    make_buy_list,
    make_car_master,
    make_fleet,
    write_buy_list,
    write_car_master,
)
from ingest.simulator.runner import simulate_day
from ingest.simulator.status import generate_status_day, write_status_day
from ingest.simulator.truth import compute_ground_truth
from pilot.rules import Thresholds

__all__ = [
    "SimulatorConfig",
    "Thresholds",
    "compute_ground_truth",
    "generate_drive_day",
    "generate_status_day",
    "iter_drive_chunks",
    "iter_drive_events",
    "make_buy_list",
    "make_car_master",
    "make_fleet",
    "simulate_day",
    "write_buy_list",
    "write_car_master",
    "write_drive_day",
    "write_status_day",
]
