"""One simulated day end to end: reference data, status log, driving events and ground truth."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ingest.simulator.blocks import Block
from ingest.simulator.config import SimulatorConfig
from ingest.simulator.drive_plan import AREAS, DrivePlan, plan_drive
from ingest.simulator.driving import drive_blocks, drive_frame, write_drive_day
from ingest.simulator.fleet import (
    MASTER_FILE,
    MAX_CARS,
    buylist_file_name,
    make_car_master,
    make_fleet,
    write_buy_list,
    write_car_master,
)
from ingest.simulator.output import WriteResult
from ingest.simulator.progress import Progress
from ingest.simulator.seeding import parse_date
from ingest.simulator.status import status_blocks, status_frame, write_status_day
from ingest.simulator.taste import favourite_items
from ingest.simulator.truth import compute_ground_truth, truth_file_name, write_ground_truth
from pilot.rules import Thresholds
from pilot.settings import Settings, get_settings

KINDS = ("master", "buylist", "status", "drive", "truth")


def validate_request(date: str, cars: int, only: Iterable[str] | None) -> set[str]:
    parse_date(date)
    if not 1 <= cars <= MAX_CARS:
        raise ValueError(f"cars must be 1..{MAX_CARS}, got {cars}")
    kinds = set(only or KINDS)
    unknown = kinds - set(KINDS)
    if unknown:
        raise ValueError(f"unknown output kinds {sorted(unknown)}; choose from {', '.join(KINDS)}")
    return kinds


def _record(kind: str, result: WriteResult) -> dict[str, Any]:
    return {"kind": kind, "path": result.path, "rows": result.rows, "bytes": result.bytes,
            "seconds": round(result.seconds, 3)}


def _drivers(fleet: list[str], plan: DrivePlan) -> dict[str, dict[str, Any]]:
    profiles = plan.profiles
    return {
        car: {
            "style": "wild" if profiles.wild[i] else "calm" if profiles.calm[i] else "normal",
            "overspeed_prone": bool(profiles.prone[i] or profiles.wild[i]),
        }
        for i, car in enumerate(fleet)
    }


def simulate_day(
    out_dir: str | Path,
    date: str,
    cars: int = 100,
    seed: int = 42,
    config: SimulatorConfig | None = None,
    quiet: bool = True,
    only: Iterable[str] | None = None,
    settings: Settings | None = None,
    buylist_rows: int | None = None,
) -> dict[str, Any]:
    """Write the day's files into ``out_dir``; returns what was written (kind, path, rows, bytes, s).

    ``only`` limits the output to some of :data:`KINDS`; the ground truth is always computed from
    the generated records, also when their files are not written. It applies the thresholds of
    ``settings`` (default: :func:`pilot.settings.get_settings`), as the loaders and marts do.
    """
    kinds = validate_request(date, cars, only)
    config = config or SimulatorConfig()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    fleet = make_fleet(cars, seed)
    files: list[dict[str, Any]] = []
    keep_blocks = "truth" in kinds
    # resolved first: a bad threshold in the environment fails before any file is written
    thresholds = Thresholds.from_settings(settings or get_settings()) if keep_blocks else None

    master = make_car_master(fleet, seed, config.minor_share)
    if "master" in kinds:
        files.append(_record("master", write_car_master(out / MASTER_FILE, fleet, seed, config.minor_share)))
    if "buylist" in kinds:
        month = date[:6]
        result = write_buy_list(out / buylist_file_name(month), fleet, month, seed, buylist_rows, master)
        files.append(_record("buylist", result))

    status_kept: list[Block] = []
    if "status" in kinds:
        lines = config.day_seconds // config.status_interval * cars
        progress = Progress(lines, f"status {date}", enabled=not quiet)
        keep = status_kept if keep_blocks else None
        files.append(_record("status", write_status_day(out, fleet, date, seed, config, progress, keep)))
    elif keep_blocks:
        status_kept.extend(status_blocks(fleet, date, seed, config))

    plan = plan_drive(fleet, date, seed, config)
    drive_kept: list[Block] = []
    if "drive" in kinds:
        lines = config.day_seconds // config.drive_interval * cars
        progress = Progress(lines, f"drive {date}", enabled=not quiet)
        keep = drive_kept if keep_blocks else None
        files.append(_record("drive", write_drive_day(out, fleet, date, seed, config, progress, keep, plan)))
    elif keep_blocks:
        drive_kept.extend(drive_blocks(fleet, date, seed, config, plan))

    summary: dict[str, Any] = {"date": date, "seed": seed, "cars": cars, "out_dir": str(out), "files": files}
    if thresholds is not None:
        truth_started = time.perf_counter()
        truth = compute_ground_truth(
            status_frame(status_kept, fleet, date, config),
            drive_frame(drive_kept, fleet, date, config),
            master, date, thresholds, seed=seed,
        )
        favourites = favourite_items(master, seed)
        for car, driver in _drivers(fleet, plan).items():
            truth["cars"][car]["driver"] = driver
            truth["cars"][car]["favourite_items"] = favourites[car]
        truth["params"]["config"] = config.as_dict()
        truth["params"]["congested_areas"] = [a for a, hit in zip(AREAS, plan.congested, strict=True) if hit]
        path = write_ground_truth(out / truth_file_name(date), truth)
        files.append({"kind": "truth", "path": str(path), "rows": len(truth["cars"]),
                      "bytes": path.stat().st_size, "seconds": round(time.perf_counter() - truth_started, 3)})
        summary["totals"] = truth["totals"]
    summary["seconds"] = round(time.perf_counter() - started, 3)
    return summary
