"""`pilot stream start|stop|status`: the always-on driving stream as supervised services.

The live collector (`pilot collect stream`) produces simulated days one after another at a rate
or speed-up; the real-time loader (`pilot load realtime`, continuous) keeps HBase and Redis
current. Both run under the stack's supervisor (restart on crash with back-off), log to
``var/logs/stream-*.log`` and report their counts in heartbeat files shown here.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from typing import Any

from pilot.dates import Day
from pilot.errors import PilotError
from pilot.settings import Settings, get_settings


def _overrides(args: argparse.Namespace, s: Settings) -> Settings:
    changes: dict[str, Any] = {}
    if args.date:
        changes["stream_date"] = Day.parse(args.date, "--date").text
    for name in ("days", "cars", "seed"):
        if getattr(args, name) is not None:
            changes[f"stream_{name}"] = getattr(args, name)
    if args.rate is not None:
        changes.update(stream_rate=args.rate, stream_speedup=0.0)
    elif args.speedup is not None:
        changes.update(stream_speedup=args.speedup, stream_rate=0.0)
    s = dataclasses.replace(s, **changes)
    if not (s.stream_rate or s.stream_speedup):
        raise PilotError("the stream needs a pace: --rate EVENTS_PER_S or --speedup X (both are 0)")
    return s


def start(args: argparse.Namespace) -> int:
    from stack import manager
    from stack.services import stream

    s = _overrides(args, get_settings())
    running = [st.name for st in manager.status(s, ["stream"]) if st.pid]
    if running:
        print(f"already running: {', '.join(running)} (`pilot stream stop` first to change the pace)")
    pace = f"{s.stream_rate:,.0f} events/s" if s.stream_rate else f"{s.stream_speedup:g}x simulated time"
    days = "without end" if s.stream_days == 0 else f"{s.stream_days} day(s)"
    print(f"stream: {s.stream_cars} cars (seed {s.stream_seed}) from {s.stream_date}, {days}, at {pace}")
    manager.up(s, [stream.LOADER, stream.COLLECTOR])
    print(format_status(s))
    return 0


def stop(args: argparse.Namespace) -> int:
    from stack import manager
    from stack.services import stream

    s = get_settings()
    # the producer first; then the loader finishes what it polled and commits it
    stopped = manager.down(s, [stream.COLLECTOR]) + manager.down(s, [stream.LOADER])
    print(f"stopped {', '.join(stopped) if stopped else 'nothing (the stream was not running)'}")
    if stopped:
        print(format_status(s))
    return 0


def rows(s: Settings) -> list[dict[str, Any]]:
    """One row per stream service: state, pid, restarts, heartbeat counts."""
    from stack import manager
    from stack.services import stream
    from stack.supervise import read_state

    result = []
    for st in manager.status(s, ["stream"]):
        beat = stream.heartbeat(s, st.name) or {}
        supervisor = read_state(stream.supervisor_file(s, st.name)) or {}
        age = time.time() - float(beat["updated_at"]) if "updated_at" in beat else None
        result.append({"service": st.name, "state": st.state, "pid": st.pid, "activity": beat.get("state"),
                       "heartbeat_age_s": None if age is None else round(age, 1),
                       "restarts": supervisor.get("restarts", 0) if st.pid else 0,
                       "last_exit": supervisor.get("last_exit"), "counts": beat, "log": st.log})
    return result


def _detail(row: dict[str, Any]) -> str:
    c = row["counts"]
    if not c:
        return "-"
    if row["service"].endswith("collector"):
        seconds = max(float(c.get("updated_at", 0)) - float(c.get("started_at", 0)), 1e-9)
        return (f"day {c.get('day') or '-'}: {c.get('day_events', 0):,} events; produced "
                f"{c.get('produced', 0):,} ({c.get('produced', 0) / seconds:,.0f}/s), "
                f"{c.get('days_done', 0)} day(s) done")
    lag = "?" if c.get("lag") is None else f"{c['lag']:,}"
    return (f"consumed {c.get('consumed', 0):,} = HBase {c.get('written', 0):,} + rejected "
            f"{c.get('rejected', 0):,}; alerts {c.get('alerts', 0):,}; lag {lag}; "
            f"open windows {c.get('open_windows', 0):,}")


def format_status(s: Settings) -> str:
    table = [("SERVICE", "STATE", "PID", "RESTARTS", "ACTIVITY", "COUNTS")]
    for row in rows(s):
        restarts = str(row["restarts"]) + (f" (last exit {row['last_exit']})" if row["restarts"] else "")
        activity = row["activity"] or "-"
        if row["heartbeat_age_s"] is not None and row["state"] != "off":
            activity += f" ({row['heartbeat_age_s']:.0f} s ago)"
        table.append((row["service"], row["state"], str(row["pid"] or "-"), restarts, activity, _detail(row)))
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in table)


def status(args: argparse.Namespace) -> int:
    s = get_settings()
    found = rows(s)
    print(json.dumps(found, indent=2) if args.json else format_status(s))
    return 0 if all(r["state"] in {"up", "off"} for r in found) else 1


def register(sub: Any) -> None:
    parser = sub.add_parser("stream", help="the always-on driving stream: start, stop, status",
                            description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = parser.add_subparsers(dest="stream_command", required=True, metavar="ACTION")
    p = actions.add_parser("start", help="start the live collector and the real-time loader (supervised)")
    p.add_argument("--date", help="first simulated day yyyyMMdd (default PILOT_STREAM_DATE)")
    p.add_argument("--days", type=int, help="days to produce, 0 = without end (default PILOT_STREAM_DAYS)")
    p.add_argument("--cars", type=int, help="fleet size (default PILOT_STREAM_CARS)")
    p.add_argument("--seed", type=int, help="random seed (default PILOT_STREAM_SEED)")
    pace = p.add_mutually_exclusive_group()
    pace.add_argument("--rate", type=float, help="events per second")
    pace.add_argument("--speedup", type=float,
                      help="simulated time X times faster than real time (default PILOT_STREAM_SPEEDUP)")
    p.set_defaults(func=start)
    p = actions.add_parser("stop", help="stop the producer, then let the loader drain and commit")
    p.set_defaults(func=stop)
    p = actions.add_parser("status", help="state, restarts and counts of both; exits 1 if one is down")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=status)
