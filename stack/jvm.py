"""Classpaths of the JVM services, resolved from the poms under docker/ into the Maven cache."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from pilot.errors import PilotError
from pilot.settings import REPO_ROOT, Settings

DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

# Each JVM service has its own pom (and so its own classpath): Hadoop, HBase and Kafka pull
# different Jetty/Jackson/log4j versions.
POMS = {
    "hadoop": REPO_ROOT / "docker" / "hadoop" / "pom.xml",
    "kafka": REPO_ROOT / "docker" / "kafka" / "pom.xml",
    "hbase": REPO_ROOT / "docker" / "hbase" / "pom.xml",
    # extra jars of the Spark processes (Spark itself comes from pyspark): the metastore's JDBC driver
    "hive": REPO_ROOT / "docker" / "hive" / "pom.xml",
}


def pom_property(runtime: str, name: str) -> str:
    """A `<properties>` value of a runtime's pom (the pinned versions live there)."""
    text = POMS[runtime].read_text(encoding="utf-8")
    match = re.search(rf"<{re.escape(name)}>([^<]+)</{re.escape(name)}>", text)
    if not match:
        raise PilotError(f"{POMS[runtime]} has no <{name}> property")
    return match.group(1).strip()


def require_tool(tool: str, package_hint: str) -> str:
    path = shutil.which(tool)
    if not path:
        raise PilotError(f"`{tool}` is not installed or not on PATH; install {package_hint} "
                         f"(or run `make setup`).")
    return path


def classpath(settings: Settings, runtime: str, *, refresh: bool = False) -> str:
    """The runtime classpath (jars in ~/.m2), cached under var/classpath/ until the pom changes."""
    pom = POMS[runtime]
    cache = settings.path("classpath", f"{runtime}.cp")
    if not refresh and cache.is_file() and cache.stat().st_mtime >= pom.stat().st_mtime:
        text = cache.read_text().strip()
        if text and all(Path(p).is_file() for p in text.split(":")):
            return text
    mvn = require_tool("mvn", "Maven (Debian package `maven`)")
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    proc = subprocess.run(
        [mvn, "-B", "-q", "-f", str(pom), f"{DEPENDENCY_PLUGIN}:build-classpath",
         f"-Dmdep.outputFile={tmp}", "-Dmdep.includeScope=runtime"],
        capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0 or not tmp.is_file():
        detail = (proc.stdout + proc.stderr).strip().splitlines()[-15:]
        raise PilotError(f"Maven could not resolve the {runtime} jars from {pom}:\n" + "\n".join(detail))
    tmp.replace(cache)
    return cache.read_text().strip()


def java_command(settings: Settings, runtime: str, conf_dir: Path, heap: str, main: str,
                 args: list[str], jvm_flags: list[str] | None = None) -> list[str]:
    java = require_tool("java", "OpenJDK 17 (Debian package `openjdk-17-jdk-headless`)")
    cp = f"{conf_dir}:{classpath(settings, runtime)}"
    return [java, f"-Xmx{heap}", "-XX:+UseG1GC", "-Djava.awt.headless=true",
            "-Djava.net.preferIPv4Stack=true", *(jvm_flags or []), "-cp", cp, main, *args]
