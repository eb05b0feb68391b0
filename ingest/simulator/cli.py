"""``pilot simulate``: write a simulated day (reference data, logs, ground truth) into a folder."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from typing import Any

from ingest.arguments import number
from ingest.simulator.config import SimulatorConfig, knob_help
from ingest.simulator.fleet import MAX_CARS
from ingest.simulator.runner import KINDS, simulate_day
from ingest.simulator.seeding import parse_date
from pilot.settings import Settings, get_settings

DESCRIPTION = """\
Simulate one day of the smart-car fleet, deterministically from --seed (same arguments give
byte-identical files). Writes into --out: CarMaster.txt, CarItemBuyList_<yyyyMM>.txt,
SmartCarStatusInfo_<date>.txt (one status line per car every 4 s), SmartCarDrivingInfo_<date>.txt
(one driving event per car every 2 s) and ground_truth_<date>.json (what every later stage must
find: failed inspection checks, pedal averages, sharp turns, overspeed windows per car).

example: pilot simulate --date 20200322 --cars 100 --seed 42 --out var/sim
"""


def _date(text: str) -> str:
    try:
        parse_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


_cars = number(int, at_least=1, at_most=MAX_CARS, name="cars")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--date", required=True, type=_date, help="day to simulate, yyyyMMdd")
    parser.add_argument("--cars", type=_cars, default=100, help=f"fleet size 1..{MAX_CARS} (default 100)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--out", default="var/sim", help="output folder (default var/sim)")
    parser.add_argument(
        "--only", action="append", choices=KINDS, metavar="KIND",
        help=f"write only this output; repeatable; one of {', '.join(KINDS)} (default: all)",
    )
    parser.add_argument("--buylist-rows", type=int, help="purchase rows (default ~100,000 x cars/2600)")
    parser.add_argument("--window-seconds", type=int,
                        help="overspeed window of the ground truth in seconds (default: the "
                             "settings', PILOT_OVERSPEED_WINDOW_SECONDS)")
    parser.add_argument("--speed-threshold", type=float,
                        help="overspeed km/h of the ground truth (default: the settings', "
                             "PILOT_OVERSPEED_SPEED_KMH)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    knobs = parser.add_argument_group("simulation knobs")
    for name, (kind, default, help_text) in knob_help().items():
        knobs.add_argument(f"--{name.replace('_', '-')}", type=kind, help=f"{help_text} (default {default})")


def register(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "simulate", help="simulate a day of the fleet into text files", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    parser.set_defaults(func=run_simulate)
    return parser


def _describe(summary: dict[str, Any]) -> str:
    lines = [f"simulated {summary['date']} for {summary['cars']} cars (seed {summary['seed']}):"]
    for item in summary["files"]:
        lines.append(
            f"  {item['kind']:<8} {item['path']}  {item['rows']:>10,} rows  "
            f"{item['bytes'] / 1e6:8.1f} MB  {item['seconds']:6.2f} s"
        )
    totals = summary.get("totals")
    if totals:
        checks = ", ".join(f"{label} {count}" for label, count in totals["checks_adult"].items())
        lines.append(f"  adult cars failing checks: {checks}")
        lines.append(
            f"  overspeed: {totals['overspeed_windows']:,} windows in {totals['overspeed_cars']} cars; "
            f"abnormal-symptom adults: {totals['symptom_abnormal_cars_adult']}; "
            f"cars without sharp turns: {totals['zero_sharp_turn_cars']}"
        )
    lines.append(f"  total {summary['seconds']:.2f} s")
    return "\n".join(lines)


def _settings(args: argparse.Namespace) -> Settings:
    """The settings, with the overspeed rule of --window-seconds and --speed-threshold if given."""
    if args.window_seconds is not None and args.window_seconds < 1:
        raise ValueError("--window-seconds must be at least 1")
    overrides = {"overspeed_window_seconds": args.window_seconds, "overspeed_speed_kmh": args.speed_threshold}
    return dataclasses.replace(get_settings(), **{k: v for k, v in overrides.items() if v is not None})


def run_simulate(args: argparse.Namespace) -> int:
    overrides = {name: getattr(args, name, None) for name in knob_help()}
    try:
        config = SimulatorConfig().with_overrides(**overrides)
        settings = _settings(args)
        if args.buylist_rows is not None and args.buylist_rows < 1:
            raise ValueError("--buylist-rows must be at least 1")
        summary = simulate_day(
            args.out, args.date, args.cars, args.seed, config, quiet=args.quiet, only=args.only,
            settings=settings, buylist_rows=args.buylist_rows,
        )
    except ValueError as exc:
        print(f"pilot simulate: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(summary, indent=1))
    elif not args.quiet:
        print(_describe(summary))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pilot")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))
