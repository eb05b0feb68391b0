"""``pilot alerts`` and ``pilot car``: read what the real-time loader wrote to Redis and HBase."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from typing import Any

from ingest.arguments import number
from ingest.records import CAR_NUMBER_PATTERN
from pilot.dates import Day
from pilot.errors import InvalidInput
from pilot.settings import get_settings

CAR_NUMBER = re.compile(CAR_NUMBER_PATTERN)


def _day(text: str) -> Day:
    try:
        return Day.parse(text, "--date")
    except InvalidInput as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _car(text: str) -> str:
    if not CAR_NUMBER.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a car number (A0001..Z0100)")
    return text


def _time(ts: str) -> str:
    return f"{ts[:4]}-{ts[4:6]}-{ts[6:8]} {ts[8:10]}:{ts[10:12]}:{ts[12:14]}"


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "alerts", help="the overspeed alerts of a day in Redis (--follow: print new ones as they come)",
        description="The overspeed alerts the real-time loader wrote to Redis for one event day: "
                    "every window whose average speed was above the limit, in window order. "
                    "--follow keeps polling and prints new alerts as they appear (Ctrl-C stops).")
    p.add_argument("--date", type=_day, help="event day yyyyMMdd (default: today, UTC)")
    p.add_argument("--follow", "-f", action="store_true", help="keep printing new alerts")
    p.add_argument("--interval", type=number(float, positive=True), default=1.0,
                   help="seconds between polls with --follow (default 1)")
    p.add_argument("--json", action="store_true", help="one JSON object per alert")
    p.set_defaults(func=run_alerts)

    p = subparsers.add_parser(
        "car", help="a car's latest driving events from HBase (one prefix scan)",
        description="The latest driving events of one car from the HBase driving log, newest "
                    "first, with the car's latest state in Redis.")
    p.add_argument("car", type=_car, help="car number, e.g. A0031")
    p.add_argument("--last", type=number(int, positive=True), default=20,
                   help="how many events (default 20)")
    p.add_argument("--json", action="store_true", help="JSON instead of a table")
    p.set_defaults(func=run_car)


def run_alerts(args: argparse.Namespace) -> int:
    from ingest.loaders.alerts import day_alerts, follow_alerts
    from ingest.loaders.stores import redis_reader
    from ingest.stopping import StopFlag

    s = get_settings()
    day: Day = args.date or Day(dt.datetime.now(dt.UTC).date())
    client = redis_reader(s)
    window = s.overspeed_window_seconds

    def show(alerts: list[Any]) -> None:
        for alert in alerts:
            if args.json:
                print(json.dumps({"car": alert.car, "window_start": alert.start,
                                  "window_end": alert.end(window)}), flush=True)
            else:
                print(f"{_time(alert.start)}  {_time(alert.end(window))}  {alert.car}", flush=True)

    if not args.json:
        print(f"overspeed alerts of {day.iso}: {window} s windows averaging above "
              f"{s.overspeed_speed_kmh:g} km/h (Redis set {day.text!r})", file=sys.stderr)
        print(f"{'WINDOW START':<19}  {'WINDOW END':<19}  CAR")
    if not args.follow:
        alerts = day_alerts(client, day.text)
        show(alerts)
        if not args.json:
            print(f"{len(alerts)} alert(s)", file=sys.stderr)
        return 0
    try:
        for new in follow_alerts(client, day.text, StopFlag(), args.interval):
            show(new)
    except KeyboardInterrupt:
        pass
    return 0


def run_car(args: argparse.Namespace) -> int:
    from ingest.loaders.hbase_keys import latest_events
    from ingest.loaders.redis_sink import latest_key
    from ingest.loaders.stores import hbase_reader, redis_reader
    from ingest.records import DRIVE_FIELDS

    s = get_settings()
    with hbase_reader(s) as conn:
        events = latest_events(conn, args.car, args.last, s.hbase_table, s.hbase_family)
    state = redis_reader(s).hgetall(latest_key(args.car))
    if args.json:
        print(json.dumps({"car": args.car, "events": events, "latest_state": state}, indent=2))
        return 0
    if not events:
        raise InvalidInput(f"no driving events of car {args.car} in HBase table {s.hbase_table} "
                           "(is the real-time loader running, and has the car driven?)")
    columns = [name for name in DRIVE_FIELDS if name != "car_number"]
    rows = [[_time(e["r_date"]) if name == "r_date" else e.get(name, "") for name in columns]
            for e in events]
    widths = [max(len(name), *(len(r[i]) for r in rows)) for i, name in enumerate(columns)]
    print(f"car {args.car}: latest {len(events)} event(s) in HBase {s.hbase_table}, newest first")
    print("  ".join(name.upper().ljust(w) for name, w in zip(columns, widths, strict=True)).rstrip())
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    if state:
        print(f"latest state in Redis: {state.get('speed')} km/h in area {state.get('area')} "
              f"at {_time(state['time']) if len(state.get('time', '')) == 14 else state.get('time')}")
    return 0
