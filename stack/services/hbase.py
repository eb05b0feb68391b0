"""HBase 2.6 standalone (master, regionserver and ZooKeeper in one JVM) and its Thrift v1 gateway."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pilot.settings import Settings
from stack import probes
from stack.config import render
from stack.jvm import java_command
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


def bootstrap(s: Settings) -> None:
    """The driving-log table exists once HBase answers."""
    with connection(s) as conn:
        if s.hbase_table.encode() not in conn.tables():
            conn.create_table(s.hbase_table, {s.hbase_family: {"max_versions": 1}})


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
