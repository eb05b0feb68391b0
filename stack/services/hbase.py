"""HBase 2.6 standalone (master, regionserver and ZooKeeper in one JVM) and its Thrift v1 gateway."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from ingest.loaders.hbase_keys import SPLIT_KEYS
from pilot.errors import PilotError
from pilot.settings import REPO_ROOT, Settings
from stack import probes
from stack.config import render
from stack.jvm import classpath, java_command, require_tool
from stack.services.base import Service

# HBase's own launcher flags for JDK 11+ (bin/hbase add_jdk11_jvm_flags).
JDK17_FLAGS = [
    "-Dorg.apache.hbase.thirdparty.io.netty.tryReflectionSetAccessible=true",
    "--add-modules", "jdk.unsupported",
    *[f"--add-opens=java.base/{pkg}=ALL-UNNAMED"
      for pkg in ("java.io", "java.nio", "sun.nio.ch", "java.lang", "jdk.internal.ref",
                  "java.lang.reflect", "java.util", "java.util.concurrent")],
    "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED",
    "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
    "--add-exports=java.base/sun.net.dns=ALL-UNNAMED",
    "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
]


def _flags(s: Settings, daemon: str) -> list[str]:
    conf = s.path("conf", "hbase")
    return [*JDK17_FLAGS,
            "-Dzookeeper.admin.enableServer=false",
            f"-Dlog4j2.configurationFile=file:{conf / 'log4j2.properties'}",
            f"-Dhbase.log.file={s.path('logs', f'hbase-{daemon}-daemon.log')}",
            f"-Dhbase.log.dir={s.path('logs')}"]


def prepare(s: Settings) -> None:
    render(s, "hbase")
    retire_local_root(s)


def retire_local_root(s: Settings) -> None:
    """HBase kept its tables on the local file system before it moved to HDFS: keep that folder
    (renamed, never deleted) and clear the embedded ZooKeeper's state, which pointed into it."""
    legacy = s.path("data", "hbase", "root")
    if not legacy.is_dir():
        return
    kept = legacy.with_name("root.local-fs")
    legacy.rename(kept)
    shutil.rmtree(s.path("data", "hbase", "zookeeper"), ignore_errors=True)
    print(f"  hbase: tables now live in HDFS ({s.hdfs_uri}/hbase); the old local tables are kept "
          f"in {kept} and the DriverCarInfo table starts empty (reload it with `pilot load realtime`)")


def master_command(s: Settings) -> list[str]:
    return java_command(s, "hbase", s.path("conf", "hbase"), s.heap_hbase,
                        "org.apache.hadoop.hbase.master.HMaster", ["start"], _flags(s, "master"))


def thrift_command(s: Settings) -> list[str]:
    return java_command(s, "hbase", s.path("conf", "hbase"), s.heap_hbase_thrift,
                        "org.apache.hadoop.hbase.thrift.ThriftServer", ["start"], _flags(s, "thrift"))


@contextmanager
def connection(s: Settings, timeout_ms: int = 30000) -> Iterator[Any]:
    """A happybase connection to the Thrift gateway, closed on exit."""
    import happybase

    conn = happybase.Connection(s.hbase_host, s.hbase_thrift_port, timeout=timeout_ms)
    try:
        yield conn
    finally:
        conn.close()


ENCODINGS = ("NONE", "PREFIX", "DIFF", "FAST_DIFF", "ROW_INDEX_V1")
CODECS = ("none", "gz", "zstd")  # the codecs the stack's jars carry (zstd: hbase-compression-zstd)
TABLE_ADMIN = REPO_ROOT / "docker" / "hbase" / "TableAdmin.java"


def bootstrap(s: Settings) -> None:
    """The driving-log table exists, pre-split at the row key's salt ranges, with the family's
    encoding and codec from the settings. Thrift v1 can set neither a split nor an encoding, so a
    table that is missing or has another codec is handed to the HBase client's Admin API
    (``docker/hbase/TableAdmin.java``); one with the codec costs one Thrift call. (Thrift v1 does not
    show the encoding: after changing only PILOT_HBASE_BLOCK_ENCODING, run TableAdmin's ``ensure``.)"""
    encoding, codec = storage(s)
    with connection(s) as conn:
        if s.hbase_table.encode() in conn.tables():
            family = conn.table(s.hbase_table).families().get(s.hbase_family.encode(), {})
            if bytes(family.get("compression", b"")).decode().lower() == codec:
                return
    ensure_table(s, s.hbase_table, encoding, codec)


def storage(s: Settings) -> tuple[str, str]:
    """The settings' (encoding, codec), checked."""
    encoding, codec = s.hbase_block_encoding.upper(), s.hbase_compression.lower()
    if encoding not in ENCODINGS:
        raise PilotError(f"PILOT_HBASE_BLOCK_ENCODING={s.hbase_block_encoding!r} is not one of "
                         f"{', '.join(ENCODINGS)}")
    if codec not in CODECS:
        raise PilotError(f"PILOT_HBASE_COMPRESSION={s.hbase_compression!r} is not one of {', '.join(CODECS)}")
    return encoding, codec


def ensure_table(s: Settings, table: str, encoding: str, codec: str, *, split: bool = True) -> str:
    """Create ``table`` (pre-split at the salt ranges unless ``split`` is false) or alter its family
    to ``encoding`` and ``codec``; the line TableAdmin printed."""
    splits = [key.decode() for key in SPLIT_KEYS] if split else []
    line = table_admin(s, "ensure", table, s.hbase_family, encoding, codec, *splits)
    print(f"  hbase: {line}")
    return line


def bulk_load(s: Settings, table: str, rows_files: Sequence[Path], qualifiers: Sequence[str]) -> str:
    """HBase's bulk load of ``rows_files`` (lines ``ROWKEY TAB VALUE ...``, one value per qualifier of
    the family; each file sorted on its own): HFiles written and handed to the regions at once. The
    line TableAdmin printed."""
    return table_admin(s, "bulkload", table, s.hbase_family, ",".join(qualifiers),
                       *(str(path) for path in rows_files), timeout=3600)


def table_bulk_loader(s: Settings) -> Callable[[Sequence[Path], Sequence[str]], str]:
    """The bulk load of the settings' table, as the real-time loader calls it (rows files, qualifiers)."""
    return partial(bulk_load, s, s.hbase_table)


def table_admin_classes(s: Settings, jars: str) -> Path:
    """The folder of TableAdmin's compiled class, compiled once per change of its source (the
    single-file launcher would compile it again on every call)."""
    folder = s.path("classpath", "table-admin")
    compiled = folder / "TableAdmin.class"
    if compiled.is_file() and compiled.stat().st_mtime >= TABLE_ADMIN.stat().st_mtime:
        return folder
    javac = require_tool("javac", "OpenJDK 17 (Debian package `openjdk-17-jdk-headless`)")
    folder.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([javac, "-nowarn", "-d", str(folder), "-cp", jars, str(TABLE_ADMIN)],
                          capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0:
        raise PilotError(f"could not compile {TABLE_ADMIN}:\n{(proc.stdout + proc.stderr).strip()[-2000:]}")
    return folder


def table_admin(s: Settings, action: str, table: str, *args: str, timeout: float = 600) -> str:
    """Run ``docker/hbase/TableAdmin.java ACTION TABLE ARGS``; the line it printed."""
    java = require_tool("java", "OpenJDK 17 (Debian package `openjdk-17-jdk-headless`)")
    conf, log = s.path("conf", "hbase"), s.path("logs", "hbase-admin.log")
    jars = classpath(s, "hbase")
    heap = "2g" if action == "bulkload" else "256m"  # a bulk load sorts a salt range's rows in memory
    command = [java, f"-Xmx{heap}", *JDK17_FLAGS, f"-Dlog4j2.configurationFile=file:{conf}/log4j2.properties",
               f"-Dhbase.log.file={log}", f"-Dhbase.log.dir={log.parent}",
               "-cp", f"{table_admin_classes(s, jars)}:{conf}:{jars}", "TableAdmin", action, table, *args]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        detail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-12:])
        raise PilotError(f"HBase: `{action} {table}` failed (log: {log}):\n{detail}")
    lines = proc.stdout.strip().splitlines()
    return lines[-1] if lines else ""


MASTER = Service(
    name="hbase",
    ports=lambda s: (s.hbase_zk_port, s.hbase_master_port, s.hbase_regionserver_port),
    address=lambda s: f"{s.hbase_host}:{s.hbase_zk_port} (ZooKeeper)",
    command=master_command,
    requires=("hdfs-datanode",),
    ready=probes.hbase_master_ready,
    prepare=prepare,
    start_timeout=120,
    stop_timeout=45,
    hint="jars from docker/hbase/pom.xml",
)

THRIFT = Service(
    name="hbase-thrift",
    ports=lambda s: (s.hbase_thrift_port,),
    address=lambda s: f"{s.hbase_host}:{s.hbase_thrift_port} (Thrift v1)",
    command=thrift_command,
    requires=("hbase",),
    ready=probes.hbase_ready,
    prepare=prepare,
    bootstrap=bootstrap,
    start_timeout=120,
    hint="jars from docker/hbase/pom.xml",
)
