"""Secret-bearing config files are private from their first byte; services get a small environment."""

from __future__ import annotations

import dataclasses
import os
import stat
from pathlib import Path

import pytest

from pilot.settings import load_settings
from stack.services import base, redis


def _settings(tmp_path: Path):
    return load_settings({"PILOT_VAR_DIR": str(tmp_path / "var")}, env_file=tmp_path / ".env")


def test_redis_conf_is_created_private_and_never_widened(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = _settings(tmp_path)
    created: list[tuple[str, int]] = []
    real_open = os.open

    def spy_open(path, flags, mode=0o777, *args, **kwargs):
        if flags & os.O_CREAT:
            created.append((os.fspath(path), mode))
        return real_open(path, flags, mode, *args, **kwargs)

    old_umask = os.umask(0)  # the mode must not rely on a strict umask
    monkeypatch.setattr(os, "open", spy_open)
    monkeypatch.setattr(os, "chmod", lambda path, mode, **kw: None if Path(path).is_dir() else pytest.fail(
        f"{path} was chmodded after being written"))
    try:
        redis.prepare(s)
    finally:
        os.umask(old_umask)
    conf = s.path("conf", "redis", "redis.conf")
    assert stat.S_IMODE(conf.stat().st_mode) == 0o600
    assert conf.read_text(encoding="utf-8").rstrip().endswith(f"requirepass {s.redis_password}")
    assert [mode for path, mode in created if Path(path).name.startswith("redis.conf")] == [0o600]


def test_services_get_only_what_they_need_of_the_callers_environment(tmp_path: Path) -> None:
    caller = {"PATH": "/usr/bin", "HOME": "/root", "LC_ALL": "C.UTF-8", "PILOT_VAR_DIR": "/v",
              "AWS_SECRET_ACCESS_KEY": "k", "GITHUB_TOKEN": "t", "PYTHONPATH": "/elsewhere"}
    env = base.inherited_env(caller)
    assert {"AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "PYTHONPATH"}.isdisjoint(env)
    assert env["PILOT_VAR_DIR"] == "/v" and env["LC_ALL"] == "C.UTF-8" and env["HOME"] == "/root"
    assert env["PATH"].endswith(os.pathsep + "/usr/bin")


def test_a_service_environment_is_the_inherited_part_plus_its_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_CLOUD_TOKEN", "secret")
    svc = dataclasses.replace(redis.SERVICE, env=lambda s: {"SERVICE_ONLY": "1"})
    env = svc.process_env(_settings(tmp_path))
    assert "SOME_CLOUD_TOKEN" not in env and env["SERVICE_ONLY"] == "1"
