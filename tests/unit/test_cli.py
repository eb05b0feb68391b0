from __future__ import annotations

import subprocess
import sys

import pytest

from orchestration.cli import build_parser, main


@pytest.mark.parametrize("argv", [["stack", "up", "--help"], ["stack", "status", "--help"],
                                  ["settings", "--help"], ["demo", "--help"]])
def test_help_works(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 0
    assert "usage: pilot" in capsys.readouterr().out


def test_stack_actions_exist() -> None:
    parser = build_parser()
    for action in ("up", "down", "status", "logs", "check", "run", "bootstrap", "jars"):
        extra = ["redis"] if action in {"logs", "check", "run"} else []
        args = parser.parse_args(["stack", action, *extra])
        assert callable(args.func)


def test_unknown_service_gives_one_line_not_a_traceback(tmp_path) -> None:
    proc = subprocess.run([sys.executable, "-m", "orchestration.cli", "stack", "logs", "nosuch"],
                          capture_output=True, text=True, env={"PILOT_VAR_DIR": str(tmp_path),
                                                               "PATH": "/usr/bin:/bin"})
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert "nosuch" in proc.stderr


@pytest.mark.parametrize("argv", [["car", "B9999"], ["car", "A0031", "--last", "0"],
                                  ["alerts", "--date", "20201301"]])
def test_readers_reject_bad_arguments_before_any_connection(argv: list[str],
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_readers_name_the_store_that_is_down(tmp_path) -> None:
    env = {"PILOT_VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "PILOT_REDIS_PORT": "1",
           "PILOT_HBASE_THRIFT_PORT": "1"}
    for argv, store in ((["alerts", "--date", "20200322"], "Redis"), (["car", "A0031"], "HBase Thrift")):
        proc = subprocess.run([sys.executable, "-m", "orchestration.cli", *argv], capture_output=True,
                              text=True, env=env, timeout=60, check=False)
        assert proc.returncode == 1
        assert proc.stderr.startswith(f"error: {store} is not reachable at 127.0.0.1:1")
        assert "Traceback" not in proc.stderr
