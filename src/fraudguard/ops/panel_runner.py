"""Start, find and stop the panel as a background service (what ``make demo`` does), and give
the demo its first users.

The panel runs as its own process (``python -m fraudguard panel``), output in
``logs/panel.log``, its pid in ``run/panel.pid`` (:class:`~fraudguard.ops.background.
BackgroundCommand`).
"""

from __future__ import annotations

import secrets
import time
import urllib.error
import urllib.request
from pathlib import Path

from fraudguard.config import Settings
from fraudguard.errors import StackError
from fraudguard.ops.background import BackgroundCommand
from fraudguard.stack.process import cmdline, tail

COMMAND = ("-m", "fraudguard", "panel")
DEMO_USERS = (
    ("admin", "admin"),
    ("lead-a", "lead"),
    ("lead-b", "lead"),
    ("analyst", "analyst"),
    ("viewer", "viewer"),
)
"""Two leads, so a proposal can be approved by a second pair of eyes."""


class PanelRunner(BackgroundCommand):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, "panel", COMMAND)

    @property
    def url(self) -> str:
        return f"http://{self.settings.panel.host}:{self.settings.panel.port}/"

    def start(self, timeout_s: float = 60.0) -> int:
        """Start the panel unless it runs, then wait until it answers; its pid."""
        pid = self.pid()
        if pid is None:
            pid = self.spawn()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.answers():
                return pid
            if cmdline(pid) is None:
                raise StackError(f"the panel exited at start:\n{tail(self.log_path)}")
            time.sleep(0.3)
        raise StackError(f"the panel did not answer on {self.url} in {timeout_s:.0f} s")

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "login", timeout=2) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False


def ensure_demo_users(settings: Settings) -> tuple[Path, dict[str, str]]:
    """The demo's users (one per role, two leads) with random passwords, created once and kept
    in ``home/panel/demo-logins.txt`` (readable by its owner only); that file and its logins."""
    from fraudguard.panel.accounts import add_user, list_users
    from fraudguard.panel.audit import Actor
    from fraudguard.panel.db import open_database
    from fraudguard.panel.security import Role

    path = settings.home / "panel" / "demo-logins.txt"
    engine = open_database(settings.panel_database_url)
    existing = {str(user["name"]) for user in list_users(engine)}
    logins = _read_logins(path)
    for name, role in DEMO_USERS:
        if name in existing:
            continue
        password = secrets.token_urlsafe(12)
        add_user(engine, name, Role(role), password, Actor("demo", "admin", "local"))
        logins[name] = password
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text("".join(f"{name} {password}\n" for name, password in logins.items()))
    return path, logins


def _read_logins(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split(" ", 1) for line in path.read_text().splitlines() if " " in line)
    return {name: password for name, password in pairs}
