"""A FraudGuard command run as a background service (the panel, the outcomes service): its
pid in ``run/<name>.pid``, its output in ``logs/<name>.log``, recognised by its command line,
so a stale pid file never stops the wrong process."""

from __future__ import annotations

import sys

from fraudguard.config import Settings
from fraudguard.stack.process import cmdline, read_pid, spawn_detached, terminate, write_pid


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
