"""Start and stop service processes, each in its own process group, tracked by pid files."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PidRecord:
    pid: int
    start_ticks: int

    @classmethod
    def read(cls, path: Path) -> PidRecord | None:
        try:
            pid_text, _, ticks_text = path.read_text().strip().partition(" ")
            return cls(int(pid_text), int(ticks_text or 0))
        except (OSError, ValueError):
            return None

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(f"{self.pid} {self.start_ticks}\n")
        tmp.replace(path)


def process_start_ticks(pid: int) -> int | None:
    """The kernel's start time of a process; tells a live pid from a reused one."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22 (starttime) follows the parenthesised command name, which may contain spaces.
    after_name = stat.rsplit(")", 1)[1].split()
    return int(after_name[19])


def is_alive(record: PidRecord | None) -> bool:
    if record is None:
        return False
    ticks = process_start_ticks(record.pid)
    if ticks is None or ticks != record.start_ticks:
        return False
    try:
        state = Path(f"/proc/{record.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def running_pid(pid_file: Path) -> int | None:
    """The pid recorded in `pid_file` if that very process still runs; clears stale files."""
    record = PidRecord.read(pid_file)
    if is_alive(record):
        assert record is not None
        return record.pid
    with contextlib.suppress(FileNotFoundError):
        pid_file.unlink()
    return None


def spawn(
    command: list[str],
    *,
    pid_file: Path,
    log_file: Path,
    cwd: Path,
    env: dict[str, str],
    user: str | None = None,
) -> int:
    """Start `command` detached in a new session (its own process group), output to `log_file`."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        log.write(f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {' '.join(command)}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=user,
            group=user,
        )
    ticks = process_start_ticks(proc.pid) or 0
    PidRecord(proc.pid, ticks).write(pid_file)
    return proc.pid


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A group whose only members are zombies of ours counts as gone.
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def stop_group(pid_file: Path, timeout: float = 30.0, stop_signal: int = signal.SIGTERM) -> bool:
    """`stop_signal` to the whole process group recorded in `pid_file`, SIGKILL after `timeout`.

    Returns True if something was running.
    """
    record = PidRecord.read(pid_file)
    if record is None:
        return False
    pgid = record.pid
    was_running = is_alive(record) or group_alive(pgid)
    if was_running:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, stop_signal)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and group_alive(pgid):
            _reap(record.pid)
            time.sleep(0.2)
        if group_alive(pgid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            gone_by = time.monotonic() + 10
            while time.monotonic() < gone_by and group_alive(pgid):  # a restart must not find it
                _reap(record.pid)
                time.sleep(0.1)
        _reap(record.pid)
    with contextlib.suppress(FileNotFoundError):
        pid_file.unlink()
    return was_running


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def port_owner(port: int) -> str:
    """Best effort description of who listens on a TCP port (for error messages)."""
    try:
        out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True,
                             timeout=5, check=False).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "another process"
    return out.split("users:", 1)[1].strip() if "users:" in out else "another process"


def tail(path: Path, lines: int = 20) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024))
            data = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])
