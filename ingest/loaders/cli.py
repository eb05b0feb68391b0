"""``pilot load batch|realtime|reference``: the loaders from the command line."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from ingest.arguments import number
from ingest.stopping import stop_on_signals
from pilot.errors import PilotError
from pilot.settings import get_settings

DESCRIPTION = """\
Load the Kafka topics into the stores.

  pilot load batch      smartcar-status + SmartCar-Topic -> HDFS wrk_date= partitions (Hive)
  pilot load realtime   SmartCar-Topic -> HBase DriverCarInfo + Redis alerts and latest state
  pilot load reference  CarMaster.txt, CarItemBuyList_<yyyyMM>.txt -> HDFS car-master/, buy-list/

Continuous by default (a service; SIGTERM or Ctrl-C drains, commits and exits 0, a second one
aborts); --bounded reads up to the end offsets seen at start, then flushes, commits, prints the
counts and exits (for Airflow tasks).
"""


def _common(p: argparse.ArgumentParser, group: str) -> None:
    p.add_argument("--bounded", action="store_true",
                   help="read up to the end offsets seen at start, then flush, commit and exit")
    p.add_argument("--group", default=group, help=f"Kafka consumer group (default {group})")
    p.add_argument("--poll-records", type=number(int, positive=True), default=20_000,
                   help="records per poll and write unit (default 20000)")
    p.add_argument("--service-timeout", type=number(float, positive=True),
                   help="give up (exit 1) when a store stays away this many seconds "
                        "(default: wait for ever in continuous mode, 600 s when --bounded)")
    p.add_argument("--progress-seconds", type=number(float, positive=True), default=10.0,
                   help="seconds between progress lines (default 10)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")


def register(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("load", help="load Kafka topics into HDFS, HBase and Redis",
                                   description=DESCRIPTION,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="load_command", required=True, metavar="LOADER")

    p = sub.add_parser("batch", help="Kafka -> HDFS wrk_date partitions (exactly once)")
    _common(p, "pilot-batch-loader")
    p.add_argument("--roll-records", type=number(int, positive=True), default=200_000,
                   help="offsets per file: files end on multiples of this (default 200000)")
    p.add_argument("--roll-seconds", type=number(float, positive=True), default=60.0,
                   help="close a file that has been open this long (default 60)")
    p.add_argument("--status-dir", help="HDFS folder for status (default: settings.hdfs_status_dir)")
    p.add_argument("--drive-dir", help="HDFS folder for driving (default: settings.hdfs_drive_dir)")
    p.add_argument("--reference-dir", help="also upload the reference files of this folder first")
    p.set_defaults(func=run_batch)

    p = sub.add_parser("realtime", help="SmartCar-Topic -> HBase rows + Redis alerts/latest state")
    _common(p, "pilot-realtime-loader")
    p.add_argument("--grace-seconds", type=int, default=60,
                   help="event-time seconds after which a silent car's window closes (default 60)")
    p.add_argument("--idle-close-seconds", type=number(float, positive=True), default=10.0,
                   help="close all windows of a partition silent this long, wall clock (default 10)")
    p.add_argument("--instance-id", help="a static group member of this name (a supervised service: a "
                                         "restart takes its partitions back without a rebalance)")
    p.add_argument("--status-file", type=Path,
                   help="keep the state and counts in this JSON file (the stream service's heartbeat)")
    p.add_argument("--bulk", action="store_true",
                   help="with --bounded: load the backlog's rows into HBase with a bulk load (HFiles, "
                        "loaded at the end) instead of puts; for replaying a past day or a long backlog")
    p.set_defaults(func=run_realtime)

    p = sub.add_parser("reference", help="upload CarMaster.txt and CarItemBuyList_<yyyyMM>.txt")
    p.add_argument("--dir", required=True, help="folder with the reference files (e.g. var/sim)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    p.set_defaults(func=run_reference)
    return parser


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("hdfs", "urllib3", "happybase", "thriftpy2"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # kafka-python (the dead-letter producer) logs every failed reconnect while Kafka is away;
    # the loaders say once in a while that they wait for Kafka (as the collectors do).
    logging.getLogger("kafka").setLevel(logging.DEBUG if verbose else logging.CRITICAL)


def _timeout(args: argparse.Namespace) -> float | None:
    if args.service_timeout is not None:
        return float(args.service_timeout)
    return 600.0 if args.bounded else None


def run_batch(args: argparse.Namespace) -> int:
    from ingest.loaders.batch import BatchLoader, BatchOptions
    from ingest.loaders.reference import upload_reference

    setup_logging(args.verbose)
    s = get_settings()
    if args.reference_dir:
        for item in upload_reference(s, args.reference_dir):
            print(f"uploaded {item.local} -> {item.hdfs} ({item.bytes:,} bytes)")
    options = BatchOptions(group=args.group, bounded=args.bounded, roll_records=args.roll_records,
                           roll_seconds=args.roll_seconds, status_dir=args.status_dir,
                           drive_dir=args.drive_dir, poll_records=args.poll_records,
                           progress_seconds=args.progress_seconds, service_timeout=_timeout(args))
    with stop_on_signals() as stop:
        report = BatchLoader(s, options, stop).run()
    print(f"batch loader ({'bounded' if args.bounded else 'stopped'}), group {args.group}:")
    print(report.describe())
    return 0 if report.reconciles() else 1


def run_realtime(args: argparse.Namespace) -> int:
    from ingest.heartbeat import Heartbeat
    from ingest.loaders.realtime import RealtimeLoader, RealtimeOptions

    setup_logging(args.verbose)
    if args.bulk and not args.bounded:
        raise PilotError("--bulk replays a backlog: use it with --bounded (the live path puts row by row)")
    options = RealtimeOptions(group=args.group, bounded=args.bounded, poll_records=args.poll_records,
                              grace_seconds=args.grace_seconds,
                              idle_close_seconds=args.idle_close_seconds,
                              progress_seconds=args.progress_seconds, service_timeout=_timeout(args),
                              instance_id=args.instance_id, bulk=args.bulk)
    s = get_settings()
    bulk_load = None
    if args.bulk:
        from stack.services.hbase import table_bulk_loader

        bulk_load = table_bulk_loader(s)
    with stop_on_signals() as stop:
        report = RealtimeLoader(s, options, stop, heartbeat=Heartbeat(args.status_file),
                                bulk_load=bulk_load).run()
    print(f"realtime loader ({'bounded' if args.bounded else 'stopped'}), group {args.group}:")
    print(report.describe())
    return 0 if report.counts.reconciles() else 1


def run_reference(args: argparse.Namespace) -> int:
    from ingest.loaders.reference import upload_reference

    setup_logging(args.verbose)
    for item in upload_reference(get_settings(), args.dir):
        print(f"uploaded {item.local} -> {item.hdfs} ({item.bytes:,} bytes)")
    return 0
