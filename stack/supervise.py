"""Keep one command running: restart it after a crash with exponential back-off, stop it on SIGTERM.

``python -m stack.supervise --name stream-loader --state var/run/stream-loader.supervisor.json --
<command...>`` is what a supervised service runs, natively and in its compose container (where
Docker's restart policy covers the supervisor itself). The child shares the supervisor's process group, so
``pilot stack down`` (SIGTERM to the group) reaches both: the child drains and exits, the
supervisor sees the stop request and does not restart it.

A child that exits 0 without a stop request has finished its work (a bounded stream): the
supervisor exits 0 too. Any other exit (a crash, kill -9) is restarted after a back-off that
doubles from one second up to ``--max-backoff`` and resets once the child ran a minute. The state
file (JSON, replaced atomically) says how often and why it restarted, for ``pilot stream status``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType

STABLE_SECONDS = 60.0  # a child that ran this long before crashing restarts after the first back-off


@dataclass
class SupervisorState:
    name: str
    supervisor_pid: int
    child_pid: int | None = None
    child_started_at: float | None = None
    restarts: int = 0
    last_exit: int | None = None
    last_exit_at: float | None = None
    next_start_at: float | None = None
    stopping: bool = False
    history: list[dict[str, float | int]] = field(default_factory=list)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self)))
        tmp.replace(path)


def backoff(previous: float, ran_for: float, first: float, ceiling: float) -> float:
    """The wait before the next start: doubled after a quick crash, reset after a stable run."""
    if ran_for >= STABLE_SECONDS or previous <= 0:
        return first
    return min(previous * 2, ceiling)


class Supervisor:
    def __init__(self, name: str, command: list[str], state_file: Path, first: float = 1.0,
                 ceiling: float = 30.0) -> None:
        self.command = command
        self.state_file = state_file
        self.first, self.ceiling = first, ceiling
        self.state = SupervisorState(name=name, supervisor_pid=os.getpid())
        self.child: subprocess.Popen[bytes] | None = None

    def request_stop(self, _signum: int, _frame: FrameType | None = None) -> None:
        # Not forwarded: the signal went to the whole group, the child has it already (a second
        # SIGTERM would make it abort instead of drain).
        self.state.stopping = True
        self.state.next_start_at = None
        self.state.write(self.state_file)

    def _say(self, text: str) -> None:
        print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} supervise {self.state.name}: {text}", flush=True)

    def run(self) -> int:
        wait = 0.0
        while True:
            started = time.monotonic()
            self.child = subprocess.Popen(self.command)
            self.state.child_pid, self.state.child_started_at = self.child.pid, time.time()
            self.state.write(self.state_file)
            code = self.child.wait()
            ran_for = time.monotonic() - started
            self.state.child_pid, self.state.last_exit, self.state.last_exit_at = None, code, time.time()
            if self.state.stopping or code == 0:
                self._say(f"child exited with {code} after {ran_for:.0f} s "
                          f"({'stop requested' if self.state.stopping else 'finished'})")
                self.state.write(self.state_file)
                return code
            wait = backoff(wait, ran_for, self.first, self.ceiling)
            self.state.restarts += 1
            self.state.history = [*self.state.history[-9:], {"exit": code, "at": time.time(),
                                                              "ran_seconds": round(ran_for, 1)}]
            self.state.next_start_at = time.time() + wait
            self.state.write(self.state_file)
            self._say(f"child exited with {code} after {ran_for:.0f} s; restart {self.state.restarts} "
                      f"in {wait:.0f} s")
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and not self.state.stopping:
                time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
            if self.state.stopping:
                return code
            self.state.next_start_at = None


def read_state(path: Path) -> dict[str, object] | None:
    """The state a supervisor wrote, or None if there is none (never started) or it is unreadable."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stack.supervise", description=__doc__.split("\n")[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--state", required=True, type=Path, help="JSON state file")
    parser.add_argument("--first-backoff", type=float, default=1.0)
    parser.add_argument("--max-backoff", type=float, default=30.0)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- command and its arguments")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command to supervise (give it after --)")
    supervisor = Supervisor(args.name, command, args.state, args.first_backoff, args.max_backoff)
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    signal.signal(signal.SIGINT, supervisor.request_stop)
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
