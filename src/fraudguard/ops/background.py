"""A FraudGuard command run as a background service (the panel, the outcomes service, the
model governor): its pid in ``run/<name>.pid``, its output in ``logs/<name>.log``, recognised
by its command line, so a stale pid file never stops the wrong process."""

from __future__ import annotations

import logging
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import orjson

from fraudguard.config import Settings
from fraudguard.errors import StackError
from fraudguard.stack.process import (
    cmdline,
    read_pid,
    spawn_detached,
    tail,
    terminate,
    write_pid,
)

Status = TypeVar("Status")


def run_until_signalled(
    run: Callable[[Callable[[], bool]], Status], current: Callable[[], Status]
) -> Status:
    """Runs a service in the foreground until SIGTERM or Ctrl-C stops it between rounds (``run``
    is given the question "stop now?"); its final status (``current`` after Ctrl-C)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    stopping: list[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        return run(lambda: bool(stopping))
    except KeyboardInterrupt:
        return current()


class BackgroundCommand:
    """``python -m fraudguard <command…>`` in a session of its own."""

    def __init__(self, settings: Settings, name: str, command: tuple[str, ...]) -> None:
        self.settings = settings
        self.command = command
        self.pidfile = settings.run_dir / f"{name}.pid"
        self.log_path = settings.logs_dir / f"{name}.log"

    def pid(self) -> int | None:
        """The running process's pid, or None."""
        pid = read_pid(self.pidfile)
        line = cmdline(pid) if pid is not None else None
        return pid if line is not None and " ".join(self.command) in line else None

    def spawn(self) -> int:
        """Start the command (whether or not it runs already); its pid."""
        pid = spawn_detached([sys.executable, *self.command], self.log_path, self.settings.home)
        write_pid(self.pidfile, pid)
        return pid

    def stop(self) -> bool:
        """Stop it (SIGTERM, then SIGKILL after 15 s); False when it was not running."""
        pid = self.pid()
        if pid is None:
            return False
        terminate([pid], timeout_s=15)
        self.pidfile.unlink(missing_ok=True)
        return True


class RoundsCommand(BackgroundCommand):
    """A service that works in rounds and writes its status (a JSON object with its ``pid``
    and ``rounds``) to ``status_file`` after each."""

    def __init__(
        self, settings: Settings, name: str, command: tuple[str, ...], status_file: Path,
        what: str, first_round_needed: bool = True,
    ) -> None:  # fmt: skip
        super().__init__(settings, name, command)
        self.status_file = status_file
        self.what = what
        """The service's name in messages ("outcomes service")."""
        self.first_round_needed = first_round_needed
        """Whether a start that saw no round within its timeout failed; if not, the service
        runs on (its first round may take long) and only an exit at start is a failure."""

    def start(self, timeout_s: float = 60.0) -> int:
        """Start the service unless it runs, then wait for its first round (at most
        ``timeout_s``); its pid."""
        pid = self.pid()
        if pid is not None:
            return pid
        pid = self.spawn()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            status = self.status()
            if status is not None and status.get("pid") == pid and status.get("rounds", 0) > 0:
                return pid
            if cmdline(pid) is None:
                raise StackError(f"the {self.what} exited at start:\n{tail(self.log_path)}")
            time.sleep(0.2)
        if not self.first_round_needed:
            return pid
        raise StackError(f"the {self.what} finished no round in {timeout_s:.0f} s "
                         f"(log: {self.log_path})")  # fmt: skip

    def stop_line(self) -> str:
        """Stop the service; what to tell the operator."""
        stopped = self.stop()
        return f"{self.what} stopped" if stopped else f"the {self.what} was not running"

    def status_lines(self, describe: Callable[[dict[str, Any]], str]) -> list[str]:
        """Whether the service runs, and ``describe`` of the status its last round wrote."""
        pid, last = self.pid(), self.status()
        lines = [f"{self.what}: {'running, pid ' + str(pid) if pid else 'not running'}"]
        return lines + ([f"  {describe(last)}"] if last is not None else [])

    def status(self) -> dict[str, Any] | None:
        """The status the service wrote last, or None."""
        try:
            status: dict[str, Any] = orjson.loads(self.status_file.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        return status
