from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from stack.process import PidRecord, group_alive, port_open, running_pid, spawn, stop_group, tail


def test_spawn_and_stop_kill_the_whole_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "run" / "svc.pid"
    log = tmp_path / "logs" / "svc.log"
    # A parent that ignores SIGTERM and a child: stopping must take both down.
    script = "import signal,subprocess,time;signal.signal(signal.SIGTERM,signal.SIG_IGN);" \
             "subprocess.Popen(['sleep','300']);print('up',flush=True);time.sleep(300)"
    pid = spawn([sys.executable, "-c", script], pid_file=pid_file, log_file=log, cwd=tmp_path,
                env=dict(os.environ))
    assert running_pid(pid_file) == pid
    time.sleep(0.5)
    assert group_alive(pid)
    assert stop_group(pid_file, timeout=2)
    assert not group_alive(pid)
    assert not pid_file.exists()
    assert "up" in tail(log)


def test_stale_pid_file_is_cleared(tmp_path: Path) -> None:
    pid_file = tmp_path / "stale.pid"
    PidRecord(os.getpid(), 1).write(pid_file)  # a live pid with the wrong start time = reused pid
    assert running_pid(pid_file) is None
    assert not pid_file.exists()
    PidRecord(999_999_999, 0).write(pid_file)
    assert running_pid(pid_file) is None
    assert stop_group(pid_file) is False


def test_port_open_on_a_closed_port() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        assert not port_open("127.0.0.1", port)
        sock.listen()
        assert port_open("127.0.0.1", port)
