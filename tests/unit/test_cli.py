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
