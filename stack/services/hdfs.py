"""HDFS: one NameNode and one DataNode (Hadoop 3.4 daemons from Maven jars), WebHDFS on."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pilot.errors import PilotError
from pilot.settings import Settings
from stack import probes
from stack.config import render
from stack.jvm import java_command
from stack.services.base import Service

CLUSTER_ID = "CID-smartcar-pilot"

# JDK 17 module openings Hadoop's own launcher adds (HADOOP-19310).
JDK17_FLAGS = [
    f"--add-opens=java.base/{pkg}=ALL-UNNAMED"
    for pkg in ("java.io", "java.lang", "java.lang.reflect", "java.math", "java.net", "java.text",
                "java.util", "java.util.concurrent", "java.util.zip", "sun.security.util",
                "sun.security.x509")
]


def _flags(s: Settings, daemon: str) -> list[str]:
    conf = s.path("conf", "hadoop")
    tmp = s.path("data", "hdfs", "jvmtmp")
    tmp.mkdir(parents=True, exist_ok=True)
    return [*JDK17_FLAGS,
            # Jetty unpacks its webapps into java.io.tmpdir on every start: keep them in var/.
            f"-Djava.io.tmpdir={tmp}",
            # Jersey logs through java.util.logging, which log4j cannot quiet.
            "-Djava.util.logging.config.file=/dev/null",
            f"-Dhadoop.log.dir={s.path('logs')}",
            f"-Dhadoop.log.file=hdfs-{daemon}-daemon.log",
            f"-Dlog4j.configuration=file:{conf / 'log4j.properties'}",
            f"-Dhadoop.home.dir={s.path('data', 'hdfs')}",
            f"-DHADOOP_USER_NAME={s.hdfs_user}"]


def _name_dir_formatted(s: Settings) -> bool:
    return (s.path("data", "hdfs", "name", "current", "VERSION")).is_file()


def prepare_namenode(s: Settings) -> None:
    conf = render(s, "hadoop")
    if _name_dir_formatted(s):
        return
    refuse_orphan_blocks(s.path("data", "hdfs", "data"), s.path("data", "hdfs", "name"))
    cmd = java_command(s, "hadoop", conf, "256m", "org.apache.hadoop.hdfs.server.namenode.NameNode",
                       ["-format", "-nonInteractive", "-clusterid", CLUSTER_ID], _flags(s, "format"))
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not _name_dir_formatted(s):
        raise PilotError(f"formatting the HDFS NameNode failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")


def refuse_orphan_blocks(data_dir: Path, name_dir: Path) -> None:
    """Stop before formatting a new namespace over DataNode blocks of an older one.

    Those blocks would not match the new cluster, yet they may be the only copy of the data whose
    NameNode metadata went missing: they are never deleted here, the user decides.
    """
    if data_dir.is_dir() and any(data_dir.iterdir()):
        raise PilotError(
            f"HDFS: the NameNode has no metadata ({name_dir}/current/VERSION is missing) but the "
            f"DataNode folder {data_dir} holds blocks of an earlier file system. Nothing was deleted. "
            f"Restore {name_dir} if you have it; to start HDFS empty instead, delete the blocks with "
            f"`rm -rf {data_dir}` (or all service data: `make clean-state`) and run `pilot stack up`.")


def prepare_datanode(s: Settings) -> None:
    render(s, "hadoop")


def namenode_command(s: Settings) -> list[str]:
    return java_command(s, "hadoop", s.path("conf", "hadoop"), s.heap_namenode,
                        "org.apache.hadoop.hdfs.server.namenode.NameNode", [], _flags(s, "namenode"))


def datanode_command(s: Settings) -> list[str]:
    return java_command(s, "hadoop", s.path("conf", "hadoop"), s.heap_datanode,
                        "org.apache.hadoop.hdfs.server.datanode.DataNode", [], _flags(s, "datanode"))


def _hdfs_env(s: Settings) -> dict[str, str]:
    return {"HADOOP_USER_NAME": s.hdfs_user}


def bootstrap(s: Settings) -> None:
    """The project's folders and the Hive warehouse exist once HDFS is up."""
    from hdfs import InsecureClient

    client = InsecureClient(s.webhdfs_url, user=s.hdfs_user)
    for folder in (s.hdfs_status_dir, s.hdfs_drive_dir, s.hdfs_master_dir, s.hdfs_buylist_dir,
                   "/user/hive/warehouse", "/tmp"):  # noqa: S108 - an HDFS path
        client.makedirs(folder)


NAMENODE = Service(
    name="hdfs-namenode",
    ports=lambda s: (s.hdfs_rpc_port, s.hdfs_http_port),
    address=lambda s: s.hdfs_uri,
    ui=lambda s: f"{s.webhdfs_url}/",
    command=namenode_command,
    ready=probes.namenode_ready,
    prepare=prepare_namenode,
    env=_hdfs_env,
    start_timeout=90,
    hint="jars from docker/hadoop/pom.xml",
)

DATANODE = Service(
    name="hdfs-datanode",
    ports=lambda s: (s.hdfs_datanode_port, s.hdfs_datanode_http_port, s.hdfs_datanode_ipc_port),
    address=lambda s: f"{s.hdfs_datanode_hostname}:{s.hdfs_datanode_http_port}",
    command=datanode_command,
    requires=("hdfs-namenode",),
    ready=probes.hdfs_ready,
    prepare=prepare_datanode,
    bootstrap=bootstrap,
    env=_hdfs_env,
    start_timeout=90,
    hint="jars from docker/hadoop/pom.xml",
)
