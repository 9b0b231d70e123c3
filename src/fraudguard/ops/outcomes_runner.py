"""Start, find and stop the outcomes service as a background process (what ``make demo``
does), and read the status it writes after every round.

The service runs as ``python -m fraudguard outcomes run``, output in ``logs/outcomes.log``, its
pid in ``run/outcomes.pid`` (:class:`~fraudguard.ops.background.BackgroundCommand`); SIGTERM
lets it finish its round.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from fraudguard.config import Settings
from fraudguard.errors import StackError
from fraudguard.ops.background import BackgroundCommand
from fraudguard.outcomes.service import status_path
from fraudguard.stack.process import cmdline, tail

COMMAND = ("-m", "fraudguard", "outcomes", "run")


class OutcomesRunner(BackgroundCommand):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, "outcomes", COMMAND)

    def start(self, timeout_s: float = 60.0) -> int:
        """Start the service unless it runs, then wait for its first committed round (its
        starting positions are then fixed: what is produced afterwards is read); its pid."""
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
                raise StackError(f"the outcomes service exited at start:\n{tail(self.log_path)}")
            time.sleep(0.2)
        raise StackError(f"the outcomes service committed nothing in {timeout_s:.0f} s "
                         f"(log: {self.log_path})")  # fmt: skip

    def status(self) -> dict[str, Any] | None:
        """The status the service wrote last (:meth:`ServiceStatus.to_dict`), or None."""
        try:
            status: dict[str, Any] = orjson.loads(status_path(self.settings).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        return status
