"""Detached service processes: start, find, identify and stop them through ``/proc``.

Services outlive the command that started them, so a process is identified by what it *is*
(its command line names the stack's home folder) rather than by being our child. Pids are
always checked against their command line before use, because a stale pidfile may name a pid
the kernel has since given to an unrelated process.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from fraudguard.errors import StackError

PROC = Path("/proc")

# `sh` backgrounds the service and exits at once, so the service is re-parented to init:
# it survives this Python process, and never lingers as our zombie after it stops.
_LAUNCHER = 'log="$1"; shift; "$@" >>"$log" 2>&1 </dev/null & echo $!'


def read_pid(pidfile: Path) -> int | None:
    """The pid a pidfile names, or None when it is missing or unreadable."""
    try:
        return int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None


def write_pid(pidfile: Path, pid: int) -> None:
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    pidfile.write_text(f"{pid}\n")


def cmdline(pid: int, proc: Path = PROC) -> str | None:
    """A process's arguments joined by spaces; None when it is gone, a zombie or hidden."""
    try:
        raw = (proc / str(pid) / "cmdline").read_bytes()
    except OSError:
        return None
    if not raw:
        return None
    return raw.rstrip(b"\0").replace(b"\0", b" ").decode(errors="replace")


def works_in_deleted_folder(pid: int, proc: Path = PROC) -> bool:
    """True when ``pid``'s working folder was deleted under it (its home was removed while it
    ran): it names our paths, but its data is gone and it cannot write any more.

    >>> works_in_deleted_folder(os.getpid())
    False
    """
    try:
        return os.readlink(proc / str(pid) / "cwd").endswith(" (deleted)")
    except OSError:
        return False


def is_running(pid: int, proc: Path = PROC) -> bool:
    """True while ``pid`` exists and is not a zombie (a zombie holds no port and no file)."""
    try:
        stat = (proc / str(pid) / "stat").read_text()
    except OSError:
        return False
    # The state letter follows the command name, which is in parentheses and may hold spaces.
    state = stat.rpartition(")")[2].split()[:1]
    return state != ["Z"] and state != ["X"]


def ancestors(pid: int | None = None, proc: Path = PROC) -> set[int]:
    """``pid`` (default: this process) and every parent up to init: never ours to stop."""
    current = os.getpid() if pid is None else pid
    found: set[int] = set()
    while current > 0 and current not in found:
        found.add(current)
        try:
            stat = (proc / str(current) / "stat").read_text()
        except OSError:
            break
        current = int(stat.rpartition(")")[2].split()[1])
    return found


def home_needle(home: Path) -> str:
    """The string that marks a command line as belonging to the stack rooted at ``home``.

    The trailing separator keeps ``/x/.fraudguard`` from matching ``/x/.fraudguard-other``.
    """
    return str(home).rstrip(os.sep) + os.sep


def find_pids(needle: str, proc: Path = PROC) -> list[int]:
    """Running processes whose command line contains ``needle``, except this one's ancestry."""
    spared = ancestors(proc=proc) if proc == PROC else set()
    pids: list[int] = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        line = cmdline(pid, proc)
        if line and needle in line and pid not in spared and is_running(pid, proc):
            pids.append(pid)
    return sorted(pids)


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path``: one start or stop of a service at a time, across
    processes (two test sessions may start the same home's services at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def service_pid(pidfile: Path, home: Path, ours: Callable[[int], bool]) -> int | None:
    """A service's pid: the one its pidfile names, else one found by its command line (the
    pidfile was lost); either only when ``ours`` recognises the process as the service."""
    pid = read_pid(pidfile)
    if pid is not None and ours(pid):
        return pid
    found = [p for p in find_pids(home_needle(home)) if ours(p)]
    return found[0] if found else None


def spawn_detached(
    argv: Sequence[str], log_path: Path, cwd: Path, env: Mapping[str, str] | None = None
) -> int:
    """Start ``argv`` in a session of its own, output appended to ``log_path``; return its pid.
    ``env`` replaces this process's environment when given."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            ["/bin/sh", "-c", _LAUNCHER, "sh", str(log_path), *argv],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=30,
            start_new_session=True,
            check=True,
            env=None if env is None else dict(env),
        )
        return int(done.stdout.strip())
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        raise StackError(f"could not start {argv[0]}: {exc}") from exc


def terminate(
    pids: Sequence[int],
    timeout_s: float,
    proc: Path = PROC,
    first: signal.Signals = signal.SIGTERM,
) -> dict[int, bool]:
    """Stop ``pids`` gracefully: ``first`` (SIGTERM), wait up to ``timeout_s``, then SIGKILL.

    Returns each pid mapped to whether it had to be killed. All pids are signalled first and
    waited for together, so stopping several processes takes one timeout, not one each.
    """
    forced: dict[int, bool] = {}
    for pid in pids:
        forced[pid] = False
        _signal(pid, first)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and any(is_running(p, proc) for p in pids):
        time.sleep(0.1)
    stubborn = [p for p in pids if is_running(p, proc)]
    for pid in stubborn:
        forced[pid] = True
        _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(is_running(p, proc) for p in stubborn):
        time.sleep(0.05)
    survivors = [p for p in stubborn if is_running(p, proc)]
    if survivors:
        raise StackError(f"processes {survivors} survived SIGKILL (are they another user's?)")
    return forced


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    except PermissionError as exc:
        raise StackError(f"not allowed to send {sig.name} to pid {pid}") from exc


def tail(path: Path, lines: int = 15) -> str:
    """The last lines of a log, for error messages that should show the cause right away."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 16384))
            text = handle.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
