"""Detached processes: start, find by command line, stop gracefully or by force."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from fraudguard.stack.process import (
    ancestors,
    cmdline,
    find_pids,
    home_needle,
    is_running,
    read_pid,
    spawn_detached,
    tail,
    terminate,
    write_pid,
)

SLEEPER = (
    "import signal, sys, time, pathlib\n{setup}pathlib.Path(sys.argv[1]).touch()\ntime.sleep(60)"
)


def start_sleeper(tmp_path: Path, ignore_term: bool = False) -> int:
    ready = tmp_path / "ready"
    setup = "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n" if ignore_term else ""
    code = SLEEPER.format(setup=setup)
    pid = spawn_detached([sys.executable, "-c", code, str(ready)], tmp_path / "out.log", tmp_path)
    deadline = time.monotonic() + 20
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return pid


def test_detached_process_is_found_by_home_and_stopped(tmp_path: Path) -> None:
    pid = start_sleeper(tmp_path)
    try:
        assert is_running(pid)
        assert str(tmp_path / "ready") in (cmdline(pid) or "")
        assert pid not in ancestors()  # re-parented: it outlives whoever started it
        assert find_pids(home_needle(tmp_path)) == [pid]
        assert terminate([pid], timeout_s=10) == {pid: False}
        assert not is_running(pid)
        assert find_pids(home_needle(tmp_path)) == []
    finally:
        terminate([pid], timeout_s=1)


def test_process_ignoring_sigterm_is_killed(tmp_path: Path) -> None:
    pid = start_sleeper(tmp_path, ignore_term=True)
    started = time.monotonic()
    assert terminate([pid], timeout_s=0.5) == {pid: True}
    assert not is_running(pid)
    assert time.monotonic() - started < 5


def test_needle_does_not_match_a_sibling_folder() -> None:
    assert home_needle(Path("/srv/fg")) == "/srv/fg/"
    assert home_needle(Path("/srv/fg")) not in "redis-server --dir /srv/fg-other/redis"


def test_zombie_counts_as_stopped(tmp_path: Path) -> None:
    (tmp_path / "42").mkdir()
    (tmp_path / "42" / "stat").write_text("42 (odd (name) Z) Z 1 42 42 0")
    assert not is_running(42, tmp_path)
    (tmp_path / "42" / "stat").write_text("42 (odd (name) Z) S 1 42 42 0")
    assert is_running(42, tmp_path)


def test_pidfile_round_trip_and_garbage(tmp_path: Path) -> None:
    pidfile = tmp_path / "run" / "x.pid"
    assert read_pid(pidfile) is None
    write_pid(pidfile, 123)
    assert read_pid(pidfile) == 123
    pidfile.write_text("not a pid")
    assert read_pid(pidfile) is None


def test_tail_shows_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    assert tail(log, 2) == "line 98\nline 99"
    assert tail(tmp_path / "missing.log") == ""


def test_a_process_whose_folder_was_deleted_is_recognised(tmp_path: Path) -> None:
    from fraudguard.stack.process import works_in_deleted_folder

    home = tmp_path / "home"
    home.mkdir()
    child = subprocess.Popen(["sleep", "30"], cwd=home)
    try:
        assert not works_in_deleted_folder(child.pid)
        home.rmdir()
        assert works_in_deleted_folder(child.pid)
    finally:
        child.kill()
        child.wait()
