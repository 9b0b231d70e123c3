"""Redis command line and the check that a running server matches the settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from fraudguard.config import RedisSettings, Settings
from fraudguard.errors import StackError
from fraudguard.stack import redis as redis_module
from fraudguard.stack.layout import StackPaths
from fraudguard.stack.redis import RedisServer, redis_command


def flags(command: list[str]) -> dict[str, str]:
    return dict(zip(command[1::2], command[2::2], strict=True))


def test_command_is_loopback_persistent_and_under_home(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, redis=RedisSettings(port=16379))
    got = flags(
        redis_command("/usr/bin/redis-server", settings, StackPaths.from_settings(settings))
    )
    assert got == {
        "--bind": "127.0.0.1",
        "--port": "16379",
        "--appendonly": "yes",
        "--dir": f"{tmp_path}/redis",
        "--logfile": f"{tmp_path}/logs/redis.log",
        "--pidfile": f"{tmp_path}/run/redis.pid",
        "--daemonize": "no",
        "--set-proc-title": "no",
    }


def test_running_server_on_another_port_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(home=tmp_path, redis=RedisSettings(port=16380))
    paths = StackPaths.from_settings(settings)
    running = " ".join(redis_command("redis-server", Settings(home=tmp_path), paths))
    monkeypatch.setattr(redis_module, "cmdline", lambda pid: running)
    with pytest.raises(
        StackError, match="listens on 127.0.0.1:6379, but the settings ask for 127.0.0.1:16380"
    ):
        RedisServer(settings, paths).check_config(1234)
    RedisServer(Settings(home=tmp_path), paths).check_config(1234)


def test_a_server_that_dies_while_starting_is_reported_not_waited_for(tmp_path: Path) -> None:
    import subprocess

    dead = subprocess.Popen(["true"])
    dead.wait()
    settings = Settings(home=tmp_path, redis=RedisSettings(port=1))
    server = RedisServer(settings, StackPaths.from_settings(settings))
    with pytest.raises(StackError, match="exited while starting"):
        server.wait_ready(dead.pid, timeout_s=5)


def test_a_launcher_not_yet_exec_ed_counts_as_starting(tmp_path: Path) -> None:
    import subprocess

    # A live process whose command line is not redis-server: the fork before exec.
    shell = subprocess.Popen(["sleep", "30"])
    settings = Settings(home=tmp_path, redis=RedisSettings(port=1))
    server = RedisServer(settings, StackPaths.from_settings(settings))
    try:
        with pytest.raises(StackError, match="did not answer PING"):
            server.wait_ready(shell.pid, timeout_s=0.5)
    finally:
        shell.kill()
        shell.wait()
