"""The `pilot` command: one entry point for the stack, the pipeline steps and queries."""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import sys
from collections.abc import Callable

from pilot.errors import PilotError
from pilot.settings import get_settings

# Subcommands that live with their libraries: module path -> its `register(subparsers)`.
PLUGGABLE_COMMANDS = (
    "ingest.simulator.cli",
    "ingest.collectors.cli",
    "ingest.loaders.cli",
    "ingest.loaders.readers_cli",
    "marts.cli",
    "marts.sql_cli",
    "export.cli",
    "analysis.cli",
)


def _stack_up(args: argparse.Namespace) -> int:
    from stack import manager

    s = get_settings()
    states = manager.up(s, args.services or None, with_optional=args.with_optional)
    print(manager.format_table(states))
    if any(st.name == "airflow-api-server" and st.state == "up" for st in states):
        print(f"\nAirflow UI: {s.airflow_url}/  login: {s.airflow_admin_user} / {s.airflow_admin_password}"
              f"\n(the password is kept in {s.path('secrets.env')})")
    return 0


def _stack_down(args: argparse.Namespace) -> int:
    from stack import manager

    stopped = manager.down(get_settings(), args.services or None)
    print(f"stopped {len(stopped)} service(s)" + (f": {', '.join(stopped)}" if stopped else ""))
    return 0


def _stack_status(args: argparse.Namespace) -> int:
    from stack import manager
    from stack.disk import disk_usage, human

    s = get_settings()
    states = manager.status(s, args.services or None)
    by_name = {st.name: st for st in states}
    datanode = by_name.get("hdfs-datanode") or manager.status(s, ["hdfs-datanode"])[0]
    hdfs_up = datanode.state in ("up", "external")
    disk = disk_usage(s, with_hdfs=hdfs_up)
    if args.json:
        rows = [{**st.__dict__, "disk": dataclasses.asdict(disk[st.name]) if st.name in disk else None}
                for st in states]
        print(json.dumps(rows, indent=2))
    else:
        print(manager.format_table(states, {name: use.describe() for name, use in disk.items()}))
        hbase = disk["hbase"].hdfs_bytes
        if hbase and all(v is not None for v in hbase.values()):
            print("HBase in HDFS: " + ", ".join(f"{part} {human(n)}" for part, n in hbase.items()))
    return 0 if all(st.healthy for st in states) else 1


def _stack_logs(args: argparse.Namespace) -> int:
    from stack import manager

    manager.logs(get_settings(), args.service, args.lines, args.follow)
    return 0


def _stack_check(args: argparse.Namespace) -> int:
    from stack import services

    return 0 if services.get(args.service).ready(get_settings()) else 1


def _stack_run(args: argparse.Namespace) -> int:
    """Prepare and run one service in the foreground (the entrypoint of the compose containers)."""
    from stack import services

    s = get_settings()
    svc = services.get(args.service)
    if svc.prepare:
        svc.prepare(s)
    command = svc.command(s)
    env = svc.process_env(s)
    os.chdir(svc.cwd(s))
    user = svc.run_as(s)
    if user:  # e.g. PostgreSQL refuses to run as root
        import pwd

        entry = pwd.getpwnam(user)
        os.initgroups(user, entry.pw_gid)
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)
        env["HOME"] = entry.pw_dir
    os.execvpe(command[0], command, env)  # noqa: S606 - replaces this process on purpose
    return 0  # pragma: no cover


def _stack_bootstrap(args: argparse.Namespace) -> int:
    """Idempotent one-shot initialisation (compose `init` service): DB roles, topics, tables."""
    from stack import services

    s = get_settings()
    for svc in services.SERVICES:
        if svc.bootstrap and (not args.services or svc.name in args.services):
            svc.bootstrap(s)
            print(f"bootstrapped {svc.name}")
    return 0


def _stack_jars(args: argparse.Namespace) -> int:
    from stack.jvm import POMS, classpath

    s = get_settings()
    for runtime in POMS:
        jars = classpath(s, runtime, refresh=args.refresh).split(":")
        print(f"{runtime:<8} {len(jars):>4} jars  (docker/{runtime}/pom.xml)")
    return 0


def _settings(args: argparse.Namespace) -> int:
    values = get_settings().redacted()
    if args.json:
        print(json.dumps(values, indent=2))
    else:
        from pilot.settings import env_name

        for key, value in values.items():
            print(f"{env_name(key)}={value}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from orchestration.demo import run_demo

    return run_demo(get_settings(), args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pilot",
        description="smartcar-pilot: run the Hadoop-ecosystem stack and the smart-car pipeline.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    stack = sub.add_parser("stack", help="start, stop and inspect the native services")
    stack_sub = stack.add_subparsers(dest="stack_command", required=True, metavar="ACTION")
    p = stack_sub.add_parser("up", help="start services in dependency order and wait until ready")
    p.add_argument("services", nargs="*", help="only these services (and what they need)")
    p.add_argument("--with", dest="with_optional", action="append", choices=["stream"], default=[],
                   help="also start an optional group: stream (the live collector and real-time loader, "
                        "paced by PILOT_STREAM_* settings; see `pilot stream`)")
    p.set_defaults(func=_stack_up)
    p = stack_sub.add_parser("down", help="stop every service this project started")
    p.add_argument("services", nargs="*", help="only these services")
    p.set_defaults(func=_stack_down)
    p = stack_sub.add_parser("status", help="show services; exits 1 if any is down")
    p.add_argument("services", nargs="*")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_stack_status)
    p = stack_sub.add_parser("logs", help="print (or follow) a service's log")
    p.add_argument("service")
    p.add_argument("-n", "--lines", type=int, default=50)
    p.add_argument("-f", "--follow", action="store_true")
    p.set_defaults(func=_stack_logs)
    p = stack_sub.add_parser("check", help="exit 0 if SERVICE is ready (used by compose healthchecks)")
    p.add_argument("service")
    p.set_defaults(func=_stack_check)
    p = stack_sub.add_parser("run", help="run one service in the foreground (container entrypoint)")
    p.add_argument("service")
    p.set_defaults(func=_stack_run)
    p = stack_sub.add_parser("bootstrap", help="create roles, databases, topics, folders and tables")
    p.add_argument("services", nargs="*")
    p.set_defaults(func=_stack_bootstrap)

    p = stack_sub.add_parser("jars", help="resolve the JVM services' jars into the Maven cache")
    p.add_argument("--refresh", action="store_true", help="ask Maven again even if cached")
    p.set_defaults(func=_stack_jars)

    p = sub.add_parser("settings", help="print the effective settings (secrets masked)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_settings)

    p = sub.add_parser("demo", help="bring the stack up and run the end-to-end pipeline")
    p.add_argument("--date", default="20200322", help="business date yyyyMMdd (default 20200322)")
    p.add_argument("--cars", type=int, default=100, help="fleet size (default 100)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--rate", type=float, default=0,
                   help="live driving events per second into Kafka (default 0 = as fast as possible)")
    p.add_argument("--timeout", type=float, default=1800, help="seconds to wait for the run (default 1800)")
    p.set_defaults(func=_demo)

    from orchestration import schedule_cli, stream

    stream.register(sub)
    schedule_cli.register(sub)
    for module in PLUGGABLE_COMMANDS:
        register: Callable[..., None] = importlib.import_module(module).register
        register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except PilotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`pilot alerts | head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
