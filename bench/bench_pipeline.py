"""Trigger-to-exported wall time of the end-to-end DAG for a simulated day, per stage.

Runs `smartcar_pilot` through the real scheduler (stack already up), then reads every task's
start and end from the Airflow REST API and writes the `## Pipeline` section of BENCHMARKS.md.

    .venv/bin/python bench/bench_pipeline.py --date 20200322 --cars 100
"""

from __future__ import annotations

import os
import platform
import sys
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from report import command_line, write_section  # noqa: E402 - bench/ is the script's folder

from ingest.collectors.ledger import live_source, read_entry  # noqa: E402
from orchestration.demo import DAG_ID, report_failure, trigger_run  # noqa: E402
from orchestration.pipeline import RunSpec  # noqa: E402
from pilot.settings import get_settings  # noqa: E402

SECTION = "## Pipeline"
GOAL_SECONDS = 600


def _ts(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def main() -> int:
    parser = command_line(__doc__)
    parser.add_argument("--date", default="20200322")
    parser.add_argument("--cars", type=int, default=100)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    s = get_settings()
    spec = RunSpec(date=args.date, cars=args.cars, seed=args.seed)
    if read_entry(s, live_source(spec.date, spec.cars, spec.seed)) is not None:
        raise SystemExit(f"{spec.date} ({spec.cars} cars, seed {spec.seed}) was collected on this stack "
                         "already, and collection is exactly once: a run would skip it and the figures "
                         "would leave it out. Choose another --date or --seed, or an empty stack.")
    started = time.monotonic()
    client, run_id = trigger_run(s, spec)
    run = client.wait_for_run(DAG_ID, run_id, timeout=3600, progress=print)
    wall = time.monotonic() - started
    if run["state"] != "success":
        report_failure(s, client, run_id)
        return 1
    tis = client.task_instances(DAG_ID, run_id)
    first_start = min(_ts(t["start_date"]) for t in tis if t.get("start_date"))
    rows = []
    for t in sorted(tis, key=lambda t: t.get("start_date") or ""):
        start, end = _ts(t.get("start_date")), _ts(t.get("end_date"))
        if start and end:
            rows.append((t["task_id"], (start - first_start).total_seconds(), (end - start).total_seconds()))
    exported = max(_ts(t["end_date"]) for t in tis if t["task_id"].startswith("export_"))
    to_exported = (exported - _ts(run["queued_at"] or run["start_date"])).total_seconds()
    lines = [
        f"`python bench/bench_pipeline.py --date {spec.date} --cars {spec.cars} --seed {spec.seed}` on "
        f"{time.strftime('%Y-%m-%d')}; {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"stack already up, LocalExecutor parallelism {s.airflow_parallelism}, the real scheduler.",
        "",
        f"**Trigger to last export: {to_exported:,.0f} s** (goal: under {GOAL_SECONDS} s); "
        f"trigger to run finished: {wall:,.0f} s.",
        "",
        "| task | starts at (s) | takes (s) |",
        "|---|---:|---:|",
        *[f"| {task} | {at:,.0f} | {took:,.1f} |" for task, at, took in rows],
    ]
    write_section("\n".join([SECTION, "", *lines]))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
