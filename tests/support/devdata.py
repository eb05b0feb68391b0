"""A simulated day in the batch loader's HDFS layout, for tests and benchmarks without Kafka.

:func:`write_layout` turns the simulator's files into the folders the batch loader writes
(status lines with the collection date appended, ``wrk_date=`` partitions, reference data), with
optional realism: late arrivals in the next collection partition, crash-replay duplicates,
neighbouring days' events, and an in-flight ``_``-file that Hive must ignore.
:func:`upload_layout` copies such a tree to HDFS under the folders of a :class:`MartConfig`.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marts.config import MartConfig
from pilot.dates import Day

STATUS, DRIVE, MASTER, BUYLIST = "car-batch-log", "drive-log", "car-master", "buy-list"


@dataclass(frozen=True)
class Realism:
    late_share: float = 0.0  # share of the day's records that arrive in collection partition D+1
    duplicate_share: float = 0.0  # share of records replayed a second time (same or next partition)
    neighbour_rows: int = 0  # events of D-1 put in partition D and of D+1 put in partition D+1
    in_flight_file: bool = False  # a `_`-prefixed garbage file in partition D
    seed: int = 1


def _shift(line: bytes, day: dt.date) -> bytes:
    return day.strftime("%Y%m%d").encode() + line[8:]


def _partitioned(
    lines: list[bytes], date: str, realism: Realism, append_wrk_date: bool,
) -> dict[str, list[bytes]]:
    day = Day.parse(date).date
    next_day = (day + dt.timedelta(days=1)).strftime("%Y%m%d")
    parts: dict[str, list[bytes]] = {date: [], next_day: []}
    rnd = random.Random(realism.seed)
    for line in lines:
        late = realism.late_share and rnd.random() < realism.late_share
        parts[next_day if late else date].append(line)
        if realism.duplicate_share and rnd.random() < realism.duplicate_share:
            parts[rnd.choice((date, next_day))].append(line)
    if realism.neighbour_rows:
        sample = lines[: realism.neighbour_rows]
        parts[date].extend(_shift(x, day - dt.timedelta(days=1)) for x in sample)
        parts[next_day].extend(_shift(x, day + dt.timedelta(days=1)) for x in sample)
    if append_wrk_date:
        return {wrk: [x + b"," + wrk.encode() for x in rows] for wrk, rows in parts.items()}
    return parts


def _write_partition(folder: Path, rows: list[bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if rows:
        (folder / "part-00000.txt").write_bytes(b"\n".join(rows) + b"\n")


def write_layout(sim_dir: str | Path, out_dir: str | Path, date: str, realism: Realism | None = None) -> Path:
    """Write the loader layout of a simulated day (``pilot simulate`` output) into ``out_dir``."""
    realism = realism or Realism()
    sim, out = Path(sim_dir), Path(out_dir)
    for kind, name, collected in (
        (STATUS, f"SmartCarStatusInfo_{date}.txt", True),
        (DRIVE, f"SmartCarDrivingInfo_{date}.txt", False),
    ):
        data = (sim / name).read_bytes()
        plain = not (realism.late_share or realism.duplicate_share or realism.neighbour_rows)
        if plain:  # fast path for big days: no per-line work beyond appending the date
            folder = out / kind / f"wrk_date={date}"
            folder.mkdir(parents=True, exist_ok=True)
            text = data.replace(b"\n", f",{date}\n".encode()) if collected else data
            (folder / "part-00000.txt").write_bytes(text)
            continue
        lines = [x for x in data.split(b"\n") if x]
        for wrk, rows in _partitioned(lines, date, realism, collected).items():
            _write_partition(out / kind / f"wrk_date={wrk}", rows)
    if realism.in_flight_file:
        garbage = out / STATUS / f"wrk_date={date}" / "_in_flight.txt.tmp"
        garbage.write_bytes(b"not,a,status,line\n" * 3)
        (out / DRIVE / f"wrk_date={date}" / ".hidden.txt").write_bytes(b"garbage\n")
    (out / MASTER).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(sim / "CarMaster.txt", out / MASTER / "CarMaster.txt")
    (out / BUYLIST).mkdir(parents=True, exist_ok=True)
    buylist = f"CarItemBuyList_{date[:6]}.txt"
    shutil.copyfile(sim / buylist, out / BUYLIST / buylist)
    return out


def config_for_root(hdfs_root: str, **overrides: Any) -> MartConfig:
    """A MartConfig whose input folders live under ``hdfs_root`` (the layout's four folders)."""
    return MartConfig.from_settings(
        status_dir=f"{hdfs_root}/{STATUS}", drive_dir=f"{hdfs_root}/{DRIVE}",
        master_dir=f"{hdfs_root}/{MASTER}", buylist_dir=f"{hdfs_root}/{BUYLIST}", **overrides,
    )


def upload_layout(client: Any, layout_dir: str | Path, config: MartConfig) -> None:
    """Upload a :func:`write_layout` tree into the config's HDFS input folders (overwriting)."""
    layout = Path(layout_dir)
    for kind, target in ((STATUS, config.status_dir), (DRIVE, config.drive_dir),
                         (MASTER, config.master_dir), (BUYLIST, config.buylist_dir)):
        source = layout / kind
        if not source.exists():
            continue
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            remote = f"{target}/{path.relative_to(source).as_posix()}"
            with path.open("rb") as handle:
                client.write(remote, handle, overwrite=True)
        for folder in sorted(p for p in source.rglob("*") if p.is_dir()):
            client.makedirs(f"{target}/{folder.relative_to(source).as_posix()}")


@dataclass(frozen=True)
class PreparedDay:
    date: str
    config: MartConfig
    hdfs_root: str
    sim_dir: Path
    layout_dir: Path
    truth: dict[str, Any]


def prepare_day(
    work_dir: str | Path, date: str, hdfs_root: str, database: str, client: Any, cars: int = 20,
    seed: int = 7, day_seconds: int = 3600, realism: Realism | None = None,
) -> PreparedDay:
    """Simulate a (short) day, write its loader layout, upload it under ``<hdfs_root>/collect``."""
    import json

    from ingest.simulator import SimulatorConfig, simulate_day

    work = Path(work_dir)
    sim_dir, layout_dir = work / "sim", work / "layout"
    simulate_day(sim_dir, date, cars=cars, seed=seed, config=SimulatorConfig(day_seconds=day_seconds))
    write_layout(sim_dir, layout_dir, date, realism)
    config = config_for_root(f"{hdfs_root}/collect", database=database)
    client.delete(hdfs_root, recursive=True)
    upload_layout(client, layout_dir, config)
    truth = json.loads((sim_dir / f"ground_truth_{date}.json").read_text(encoding="utf-8"))
    return PreparedDay(date, config, hdfs_root, sim_dir, layout_dir, truth)


def drop_prepared(hive: Any, client: Any, day: PreparedDay) -> None:
    """Drop the Hive database (CASCADE), its audited builds and the HDFS folder of a prepared day."""
    from pilot.sql_values import SqlIdentifier

    if day.config.database != "default":
        hive.execute(f"DROP DATABASE IF EXISTS {SqlIdentifier(day.config.database).render()} CASCADE")
        client.delete(f"{day.config.audit_dir}/{day.config.database}", recursive=True)
    client.delete(day.hdfs_root, recursive=True)
