"""`pilot stack up|down|status|logs`: start services in order with real readiness checks."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from pilot.errors import PilotError, ServiceUnavailable
from pilot.settings import Settings
from stack import services as registry
from stack.process import port_open, port_owner, running_pid, spawn, stop_group, tail
from stack.services.base import Service

Progress = Callable[[str], None]


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class ServiceState:
    name: str
    address: str
    state: str  # up | down | starting | external | off (an optional service nobody asked for)
    pid: int | None
    ui: str
    log: str

    @property
    def healthy(self) -> bool:
        return self.state in {"up", "external", "off"}


def _state(s: Settings, svc: Service, state: str, pid: int | None) -> ServiceState:
    return ServiceState(svc.name, svc.address(s), state, pid, svc.ui(s) if svc.ui else "",
                        str(svc.log_file(s)))


def _host_for_ports(s: Settings) -> str:
    return "127.0.0.1" if s.bind_host in {"0.0.0.0", "::"} else s.bind_host  # noqa: S104


def _check_ports_free(s: Settings, svc: Service) -> None:
    for port in svc.ports(s):
        if port_open(_host_for_ports(s), port):
            raise PilotError(
                f"{svc.name} cannot start: port {port} is already in use by {port_owner(port)}. "
                f"Stop that process, or move {svc.name} to another port with a PILOT_* setting "
                f"(see `pilot settings`).")


def _wait_ready(s: Settings, svc: Service, pid: int, progress: Progress) -> None:
    started = time.monotonic()
    deadline = started + svc.start_timeout
    last_note = started
    while time.monotonic() < deadline:
        if svc.ready(s):
            progress(f"  {svc.name:<22} ready in {time.monotonic() - started:5.1f} s")
            return
        if running_pid(svc.pid_file(s)) is None:
            raise PilotError(
                f"{svc.name} exited during start-up. Last lines of its log {svc.log_file(s)}:\n"
                + tail(svc.log_file(s), 25))
        if time.monotonic() - last_note > 15:
            progress(f"  {svc.name:<22} still starting ({time.monotonic() - started:.0f} s)...")
            last_note = time.monotonic()
        time.sleep(1.0)
    log_tail = tail(svc.log_file(s), 25)
    stop_group(svc.pid_file(s), svc.stop_timeout, svc.stop_signal)
    raise PilotError(f"{svc.name} did not become ready within {svc.start_timeout:.0f} s and was "
                     f"stopped. Last lines of its log {svc.log_file(s)}:\n{log_tail}")


def start_service(s: Settings, svc: Service, progress: Progress = _stderr) -> ServiceState:
    """Start one service (or adopt a running one) and wait until it is ready. Idempotent."""
    if not s.is_managed(svc.name):
        if not svc.ready(s):
            raise ServiceUnavailable(svc.name, svc.address(s),
                                     hint="it is configured as external (not in "
                                          "PILOT_MANAGED_SERVICES): start it where it runs")
        return _state(s, svc, "external", None)
    pid = running_pid(svc.pid_file(s))
    if pid is None:
        _check_ports_free(s, svc)
        if svc.prepare:
            svc.prepare(s)
        run_as = svc.run_as(s)
        pid = spawn(svc.command(s), pid_file=svc.pid_file(s), log_file=svc.log_file(s),
                    cwd=svc.cwd(s), env=svc.process_env(s), user=run_as)
        if run_as:
            import shutil

            shutil.chown(svc.log_file(s), run_as)
        progress(f"  {svc.name:<22} started (pid {pid}), waiting until ready...")
        _wait_ready(s, svc, pid, progress)
    elif not svc.ready(s):
        progress(f"  {svc.name:<22} running (pid {pid}), waiting until ready...")
        _wait_ready(s, svc, pid, progress)
    if svc.bootstrap:
        svc.bootstrap(s)
    return _state(s, svc, "up", pid)


def up(s: Settings, names: list[str] | None = None, progress: Progress = _stderr,
       with_optional: list[str] | None = None) -> list[ServiceState]:
    """Start the named services (default: every one that is not optional, and the optional ones
    the settings ask for) and what they need; ``with_optional`` adds optional ones (``stream``)."""
    if names:
        wanted = registry.expand(names)
    else:
        wanted = [svc.name for svc in registry.SERVICES if svc.starts_by_default(s)]
        wanted += registry.expand(with_optional or [])
    chosen = registry.with_requirements(wanted)
    s.var_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    states = [start_service(s, svc, progress) for svc in chosen]
    progress(f"stack up in {time.monotonic() - started:.1f} s")
    return states


def down(s: Settings, names: list[str] | None = None, progress: Progress = _stderr) -> list[str]:
    chosen = [registry.get(n) for n in registry.expand(names)] if names else list(registry.SERVICES)
    stopped = []
    for svc in reversed(chosen):
        if stop_group(svc.pid_file(s), svc.stop_timeout, svc.stop_signal):
            progress(f"  {svc.name:<22} stopped")
            stopped.append(svc.name)
    return stopped


def status(s: Settings, names: list[str] | None = None) -> list[ServiceState]:
    chosen = [registry.get(n) for n in registry.expand(names)] if names else list(registry.SERVICES)
    states = []
    for svc in chosen:
        if not s.is_managed(svc.name):
            states.append(_state(s, svc, "external" if svc.ready(s) else "down", None))
            continue
        pid = running_pid(svc.pid_file(s))
        if pid is None:
            states.append(_state(s, svc, "down" if svc.starts_by_default(s) else "off", None))
        else:
            states.append(_state(s, svc, "up" if svc.ready(s) else "starting", pid))
    return states


def format_table(states: list[ServiceState], disk: dict[str, str] | None = None) -> str:
    """The status table; with ``disk`` (service -> its disk use) a DISK column too."""
    if disk is None:
        rows = [("SERVICE", "ADDRESS", "STATE", "PID", "UI")]
        rows += [(st.name, st.address, st.state, str(st.pid or "-"), st.ui or "-") for st in states]
    else:
        rows = [("SERVICE", "ADDRESS", "STATE", "PID", "DISK", "UI")]
        rows += [(st.name, st.address, st.state, str(st.pid or "-"), disk.get(st.name, "-"), st.ui or "-")
                 for st in states]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)


def logs(s: Settings, name: str, lines: int = 50, follow: bool = False) -> None:
    svc = registry.get(name)
    path = svc.log_file(s)
    if not path.is_file():
        raise PilotError(f"{name} has no log yet ({path}); start it with `pilot stack up {name}`.")
    print(tail(path, lines))
    if follow:
        with open(path, encoding="utf-8", errors="replace") as fh:
            fh.seek(0, 2)
            try:
                while True:
                    line = fh.readline()
                    if line:
                        print(line, end="", flush=True)
                    else:
                        time.sleep(0.5)
            except KeyboardInterrupt:
                return
