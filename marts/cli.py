"""``pilot marts build|check|sql``: build the five Hive marts of a business date and gate them."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, TypeVar

from marts.catalog import MARTS
from marts.config import DEFAULT_LATE_DAYS, MartConfig, late_days
from pilot.dates import Day
from pilot.errors import InvalidInput
from pilot.settings import get_settings

T = TypeVar("T")

DESCRIPTION = """\
Build the five marts of a business date with the Hive SQL files in sql/hive/ (through the Spark
Thrift Server), then run each mart's data-quality gates. Every mart is partitioned by its business
date (the purchase mart by month) and overwritten, so reruns never duplicate.

marts (name or alias):
""" + "\n".join(f"  {m.number}. {m.name:<40} {m.alias}" for m in MARTS) + """

examples:
  pilot marts build --date 20200322
  pilot marts build --date 20200322 --mart symptom
  pilot marts check --date 20200322
  pilot marts sql --date 20200322 --mart emergency   # the bound SQL, e.g. for beeline
"""


def _argument(parse: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse type from a validator: its error becomes argparse's one-line message."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except InvalidInput as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def _late_days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise InvalidInput(f"late days must be a whole number, got {text!r}") from None
    return late_days(value)


def _config(args: argparse.Namespace) -> MartConfig:
    return MartConfig.from_settings(
        get_settings(), late_days=args.late_days, z_threshold=args.z_threshold,
        sharp_share_threshold=args.sharp_turn_share, tire_threshold=args.tire_threshold,
        battery_threshold=args.battery_threshold, database=args.database,
    )


def _build(args: argparse.Namespace) -> int:
    from marts.runner import build_marts

    build_marts(args.date, args.mart, _config(args), run_gates=not args.no_gates)
    return 0


def _check(args: argparse.Namespace) -> int:
    from marts.runner import check_marts

    results = check_marts(args.date, args.mart, _config(args))
    failed = 0
    for result in results:
        state = "ok" if result.passed else f"FAILED ({len(result.offending)} row(s) shown below)"
        print(f"{result.mart}.{result.check}: {state}")
        if not result.passed:
            failed += 1
            for row in result.offending[:10]:
                print("    " + ", ".join(f"{c}={v}" for c, v in zip(result.columns, row, strict=False)))
    print(f"{len(results) - failed} of {len(results)} gates passed")
    return 1 if failed else 0


def _sql(args: argparse.Namespace) -> int:
    from marts.runner import render_sql

    for name in args.mart or [m.name for m in MARTS]:
        print(render_sql(args.date, name, _config(args), checks=args.checks))
        print()
    return 0


def _common(parser: argparse.ArgumentParser, build: bool = False) -> None:
    parser.add_argument("--date", required=True, type=_argument(Day.parse), help="business date yyyyMMdd")
    parser.add_argument("--mart", action="append", metavar="NAME",
                        help="only this mart (name or alias); repeatable (default: all five)")
    parser.add_argument("--database", help="Hive database (default: settings hive_database)")
    parser.add_argument("--late-days", type=_argument(_late_days), default=DEFAULT_LATE_DAYS,
                        help="read collection partitions D..D+N for late arrivals "
                             f"(default {DEFAULT_LATE_DAYS})")
    thresholds = parser.add_argument_group("thresholds (default: the settings module)")
    thresholds.add_argument("--z-threshold", type=float, help="symptom |z| above this is abnormal")
    thresholds.add_argument("--sharp-turn-share", type=float, help="sharp-turn share above this is abnormal")
    thresholds.add_argument("--tire-threshold", type=float, help="tyre day-average below this: Tire Check")
    thresholds.add_argument("--battery-threshold", type=float,
                            help="battery day-average below this: Battery Check")
    if build:
        parser.add_argument("--no-gates", action="store_true", help="skip the data-quality gates")


def register(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "marts", help="build and check the Hive marts of a business date", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="marts_command", required=True, metavar="ACTION")
    p = sub.add_parser("build", help="build marts (INSERT OVERWRITE of the date's partition) and gate them")
    _common(p, build=True)
    p.set_defaults(func=_build)
    p = sub.add_parser("check", help="run the data-quality gates of built marts; exit 1 if one fails")
    _common(p)
    p.set_defaults(func=_check)
    p = sub.add_parser("sql", help="print the bound SQL of marts (no services needed)")
    _common(p)
    p.add_argument("--checks", action="store_true", help="print the gate queries instead")
    p.set_defaults(func=_sql)
    return parser
