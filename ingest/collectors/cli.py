"""``pilot collect spool|tail|live``: move status files, a driving log or live events into Kafka."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from ingest.arguments import number
from ingest.collectors.connect import prepare_kafka
from ingest.collectors.delivery import MODES
from ingest.collectors.report import CollectReport
from ingest.stopping import StopFlag, stop_on_signals
from pilot.errors import PilotError
from pilot.settings import Settings, get_settings

DESCRIPTION = """\
Collectors, the role Flume had in the original pilot: every line is validated, valid lines are
produced to Kafka (key = car number, acks=all, idempotent, lz4 batches), bad lines go to the
dead-letter topic with their reason, and each run reports read = produced + rejected.
If Kafka is unavailable the collectors say what they wait for, back off and resend whatever
the broker did not confirm, so nothing is lost.

  spool  complete SmartCarStatusInfo_*.txt files from a directory -> smartcar-status
  tail   a growing driving log (survives rotation and truncation) -> SmartCar-Topic
  live   the simulator's driving events, paced or flat out        -> SmartCar-Topic
"""

SPOOL_DESCRIPTION = """\
Collect status files dropped into DIR into the status topic (settings.topic_status), appending
the collection date (--wrk-date) as the 14th field.

Only complete files are taken. A writer either drops a file in by rename (write NAME.part,
NAME.tmp or .NAME, then rename it: those names are never taken; `pilot simulate` does this), or
writes NAME in place and then creates an empty NAME.done next to it (use --done-marker to take
only files that have one). Lines that do not start with a 14-digit timestamp (file headers) and
invalid lines go to the dead-letter topic with their reason. A finished file is renamed to
NAME.COMPLETED (or deleted with --on-done delete).

Exactly once: each batch of lines is a Kafka transaction that also records, in the collect
ledger topic, how far the file (named by its content's SHA-256) has been sent. A restart, or a
copy of the same file dropped in again, continues from there: no line is lost or sent twice, and
a file collected already is only marked done. Without --once the directory is polled until
SIGTERM/Ctrl-C, which finish the current batch, commit it and exit 0.

examples:
  pilot collect spool --dir var/sim --once --wrk-date 20200322
  pilot collect spool --dir /data/spool --master var/sim/CarMaster.txt --on-done delete
"""

TAIL_DESCRIPTION = """\
Follow a growing driving log like `tail -F` into the driving topic (settings.topic_drive). Only
complete lines are sent (a partial last line waits for its newline). Rotation (the path names a
new file) finishes the old file, then follows the new one from its start; truncation starts again
at 0. The position is checkpointed after each batch Kafka confirmed (--state, default
var/collect/tail-<name>.json), so a restart continues where it stopped. Without a checkpoint it
starts at the end of the file, or at its start with --from-start.

examples:
  pilot collect tail --file var/sim/SmartCarDrivingInfo_20200322.txt --from-start --idle-exit 10
  pilot collect tail --file /var/log/smartcar/drive.log
"""

LIVE_DESCRIPTION = """\
Simulate the fleet's driving events (deterministic from --seed, as `pilot simulate` writes them)
and produce them straight into the driving topic. --rate paces to events per second, --speedup
replays simulated time that many times faster than real time (the original pilot's load of 1,000
events/s for 100 cars is --speedup 20); neither: as fast as possible. --limit stops after the
day's first N events.

Exactly once: events go out in Kafka transactions that also record, in the collect ledger topic,
how far the day (date, cars, seed) has been produced. A restart continues from there, and a day
produced completely is not produced again (--from-scratch produces it anew on purpose).

examples:
  pilot collect live --date 20200322 --cars 100 --seed 42 --speedup 20
  pilot collect live --date 20200322 --cars 100 --rate 5000 --limit 100000
  pilot collect live --date 20200322 --cars 2600 --processes 2      # flat out
"""


_positive_int = number(int, at_least=1)
_non_negative = number(float, at_least=0.0)


def _common(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Kafka and output")
    group.add_argument("--partitions", type=_positive_int,
                       help="partitions of topics created now (default: settings, 3)")
    group.add_argument("--retention-hours", type=_positive_int,
                       help="retention of topics created now (default: settings, 168)")
    group.add_argument("--kafka-wait", type=_non_negative, default=300.0, metavar="SECONDS",
                       help="how long to wait for an unavailable Kafka before giving up (default 300)")
    group.add_argument("--send-mode", choices=MODES, default="auto",
                       help="bulk: fast path into kafka-python's record batches; send: one "
                            "producer.send() per record; auto: bulk when available (default)")
    group.add_argument("--quiet", action="store_true", help="no progress lines, only warnings and the report")
    group.add_argument("--verbose", action="store_true", help="also show kafka-python's own log")
    group.add_argument("--json", action="store_true", help="print the report as JSON")


def _line_input(parser: argparse.ArgumentParser, poll: float, poll_help: str) -> None:
    """Options of the collectors that read lines from files (spool, tail), then the common ones."""
    parser.add_argument("--master", help="CarMaster.txt: reject car numbers not in it (unknown_car)")
    parser.add_argument("--batch-lines", type=_positive_int, default=20_000,
                        help="lines per confirmed batch and checkpoint (default 20000)")
    parser.add_argument("--poll", type=_non_negative, default=poll, help=poll_help)
    _common(parser)


def _master(path: str | None) -> frozenset[str] | None:
    if not path:
        return None
    from ingest.records import read_known_cars

    try:
        return read_known_cars(path)
    except OSError as exc:
        raise PilotError(f"cannot read the car master {path}: {exc.strerror or exc}") from None


def register(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "collect", help="collect status files, a driving log or live events into Kafka",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="collector", required=True, metavar="COLLECTOR")

    p = sub.add_parser("spool", help="complete status files from a directory -> smartcar-status",
                       description=SPOOL_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", required=True, type=Path, help="the spool directory")
    p.add_argument("--wrk-date", help="collection date yyyyMMdd appended to every line (default: "
                                      "today; Airflow passes the run's logical date)")
    p.add_argument("--on-done", choices=("rename", "delete"), default="rename",
                   help="a finished file is renamed to NAME.COMPLETED (default) or deleted")
    p.add_argument("--once", action="store_true", help="collect the files that are there, then exit")
    p.add_argument("--done-marker", action="store_true",
                   help="take only files that have a NAME.done marker next to them")
    p.add_argument("--pattern", default="SmartCarStatusInfo_*.txt",
                   help="file name glob (default SmartCarStatusInfo_*.txt)")
    _line_input(p, 2.0, "seconds between directory scans")
    p.set_defaults(func=_run_spool)

    p = sub.add_parser("tail", help="follow a growing driving log -> SmartCar-Topic",
                       description=TAIL_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--file", required=True, type=Path, help="the log file to follow")
    p.add_argument("--from-start", action="store_true",
                   help="without a checkpoint, start at the beginning (default: at the end)")
    p.add_argument("--idle-exit", type=_non_negative, metavar="SECONDS",
                   help="exit after this many seconds without new data (default: run until stopped)")
    p.add_argument("--state", type=Path, help="checkpoint file (default var/collect/tail-<name>.json)")
    _line_input(p, 0.5, "seconds between checks when idle")
    p.set_defaults(func=_run_tail)

    p = sub.add_parser("live", help="the simulator's driving events -> SmartCar-Topic",
                       description=LIVE_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--date", required=True, help="simulated day yyyyMMdd")
    p.add_argument("--cars", type=_positive_int, default=100, help="fleet size (default 100)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    pace = p.add_mutually_exclusive_group()
    pace.add_argument("--rate", type=_non_negative, metavar="EVENTS_PER_S",
                      help="target events per second (0 or absent: as fast as possible)")
    pace.add_argument("--speedup", type=_non_negative, metavar="X",
                      help="replay simulated time X times faster than real time")
    p.add_argument("--limit", type=int, metavar="N", help="stop after the day's first N events")
    p.add_argument("--from-scratch", action="store_true",
                   help="produce the day again from its first event, even where the collect ledger "
                        "says it was produced (duplicates what earlier runs sent)")
    p.add_argument("--processes", type=_positive_int, default=1,
                   help="producer processes, each owning some partitions (default 1)")
    _common(p)
    p.set_defaults(func=_run_live)

    p = sub.add_parser("stream", help="the live producer over one simulated day after another (a service)",
                       description="The always-on driving stream (`pilot stream start` runs it as a "
                                   "supervised service): simulated days from --date on, each produced "
                                   "exactly once (a restart resumes inside its day), paced by --rate or "
                                   "--speedup. SIGTERM finishes the current transaction and stops.")
    p.add_argument("--date", required=True, help="first simulated day yyyyMMdd")
    p.add_argument("--days", type=int, default=0, help="days to produce (default 0: without end)")
    p.add_argument("--cars", type=_positive_int, default=100, help="fleet size (default 100)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    pace = p.add_mutually_exclusive_group()
    pace.add_argument("--rate", type=_non_negative, metavar="EVENTS_PER_S", help="target events per second")
    pace.add_argument("--speedup", type=_non_negative, metavar="X",
                      help="simulated time X times faster than real time (20: 1,000 events/s for 100 cars)")
    p.add_argument("--status-file", type=Path, help="keep the state and counts in this JSON file")
    _common(p)
    p.set_defaults(func=_run_stream)
    return parser


# ---- running -----------------------------------------------------------------------------------
def _setup_logging(args: argparse.Namespace) -> None:
    level = logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    logging.getLogger().setLevel(level)
    logging.getLogger("kafka").setLevel(logging.WARNING if args.verbose else logging.CRITICAL)


def _finish(args: argparse.Namespace, report: CollectReport) -> int:
    print(report.to_json() if args.json else report.describe())
    return 0


def _with_kafka(args: argparse.Namespace, purpose: str,
                body: Callable[[Settings, StopFlag], CollectReport]) -> int:
    _setup_logging(args)
    settings = get_settings()
    prepare_kafka(settings, purpose, args.partitions, args.retention_hours, timeout=args.kafka_wait)
    with stop_on_signals() as stop:
        report = body(settings, stop)
    return _finish(args, report)


def _collect(args: argparse.Namespace, purpose: str,
             collector: Callable[[Settings, Any, StopFlag], Any]) -> int:
    """Run ``collector(settings, outbox, stop)``'s ``run()`` with an outbox closed afterwards."""
    from ingest.collectors.outbox import Outbox

    def body(settings: Settings, stop: StopFlag) -> CollectReport:
        with Outbox(settings, purpose, mode=args.send_mode, reconnect_timeout=args.kafka_wait) as outbox:
            return collector(settings, outbox, stop).run()

    return _with_kafka(args, purpose, body)


def _run_spool(args: argparse.Namespace) -> int:
    from ingest.collectors.ledger import read_entry
    from ingest.collectors.spool import SpoolCollector, SpoolOptions
    from ingest.collectors.transactions import outboxes
    from ingest.collectors.validate import check_wrk_date

    opts = SpoolOptions(directory=args.dir, wrk_date=check_wrk_date(args.wrk_date), on_done=args.on_done,
                        once=args.once, require_marker=args.done_marker, pattern=args.pattern,
                        known_cars=_master(args.master), batch_lines=args.batch_lines,
                        poll_seconds=args.poll)
    if not opts.directory.is_dir():
        raise PilotError(f"spool directory {opts.directory} does not exist")
    purpose = f"the spool collector ({opts.directory})"

    def body(settings: Settings, stop: StopFlag) -> CollectReport:
        files = outboxes(settings, purpose, mode=args.send_mode, reconnect_timeout=args.kafka_wait)
        return SpoolCollector(settings, opts, files, partial(read_entry, settings), stop).run()

    return _with_kafka(args, purpose, body)


def _run_tail(args: argparse.Namespace) -> int:
    from ingest.collectors.tail import TailCollector, TailOptions

    opts = TailOptions(path=args.file, from_start=args.from_start, idle_exit=args.idle_exit,
                       state_path=args.state, known_cars=_master(args.master), batch_lines=args.batch_lines,
                       poll_seconds=args.poll)
    return _collect(args, f"the tail collector ({opts.path})",
                    lambda settings, outbox, stop: TailCollector(settings, opts, outbox, stop))


def _run_live(args: argparse.Namespace) -> int:
    from ingest.collectors.live import LiveOptions, run_live

    opts = LiveOptions(date=args.date, cars=args.cars, seed=args.seed, rate=args.rate or None,
                       speedup=args.speedup or None, limit=args.limit, processes=args.processes,
                       mode=args.send_mode, progress_every=0 if args.quiet else 5.0,
                       kafka_wait=args.kafka_wait, from_scratch=args.from_scratch)
    return _with_kafka(args, "the live producer", lambda settings, stop: run_live(settings, opts, stop))


def _run_stream(args: argparse.Namespace) -> int:
    from ingest.collectors.live import LiveOptions
    from ingest.collectors.stream import StreamOptions, run_stream
    from ingest.heartbeat import Heartbeat

    day = LiveOptions(date=args.date, cars=args.cars, seed=args.seed, rate=args.rate or None,
                      speedup=args.speedup or None, mode=args.send_mode,
                      progress_every=0 if args.quiet else 30.0, kafka_wait=args.kafka_wait)
    opts = StreamOptions(start=args.date, days=args.days, day_options=day)
    heartbeat = Heartbeat(args.status_file)
    heartbeat.beat("waiting for Kafka", force=True)
    return _with_kafka(args, "the stream producer",
                       lambda settings, stop: run_stream(settings, opts, stop, heartbeat))
