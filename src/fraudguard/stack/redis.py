"""The local Redis server: append-only persistence in the stack home, loopback only.

Redis normally rewrites its process title, which would hide the stack home from its command
line; ``--set-proc-title no`` keeps the arguments visible, so ``down`` can always find it.
"""

from __future__ import annotations

import logging
import time

import redis as redis_client

from fraudguard.config import Settings
from fraudguard.errors import StackError
from fraudguard.stack.layout import StackPaths
from fraudguard.stack.process import (
    cmdline,
    is_running,
    service_pid,
    spawn_detached,
    tail,
    terminate,
    write_pid,
)
from fraudguard.stack.status import Stopped

log = logging.getLogger(__name__)


def redis_command(redis_server: str, settings: Settings, paths: StackPaths) -> list[str]:
    """The ``redis-server`` command line; every file it writes is under the stack home."""
    return [
        redis_server,
        "--bind",
        settings.redis.host,
        "--port",
        str(settings.redis.port),
        "--appendonly",
        "yes",
        "--dir",
        str(paths.redis_dir),
        "--logfile",
        str(paths.redis_log),
        "--pidfile",
        str(paths.redis_pidfile),
        "--daemonize",
        "no",
        "--set-proc-title",
        "no",
    ]


class RedisServer:
    """The Redis server of one stack home; its pid is trusted only if its command line matches."""

    name = "redis"

    def __init__(self, settings: Settings, paths: StackPaths) -> None:
        self.settings = settings
        self.paths = paths

    @property
    def port(self) -> int:
        return self.settings.redis.port

    def _ours(self, pid: int) -> bool:
        line = cmdline(pid) or ""
        return "redis-server" in line and f"--dir {self.paths.redis_dir}" in line

    def pid(self) -> int | None:
        """The running server's pid: from the pidfile, else found by its command line."""
        return service_pid(self.paths.redis_pidfile, self.paths.home, self._ours)

    def check_config(self, pid: int) -> None:
        """Fail when the running server was started with other settings (host, port)."""
        args = (cmdline(pid) or "").split(" ")
        running = {flag: args[i + 1] for i, flag in enumerate(args[:-1]) if flag.startswith("--")}
        wanted = {"--bind": self.settings.redis.host, "--port": str(self.port)}
        if any(running.get(flag) != value for flag, value in wanted.items()):
            raise StackError(
                f"Redis (pid {pid}) listens on {running.get('--bind')}:{running.get('--port')}, "
                f"but the settings ask for {wanted['--bind']}:{wanted['--port']}; "
                "run `fraudguard stack down` first"
            )

    def start(self, redis_server: str) -> int:
        """Start the server detached and record its pid; the caller waits for readiness."""
        self.paths.redis_dir.mkdir(parents=True, exist_ok=True)
        log.info("starting Redis on %s:%d", self.settings.redis.host, self.port)
        command = redis_command(redis_server, self.settings, self.paths)
        pid = spawn_detached(command, self.paths.logs / "redis.out", self.paths.home)
        write_pid(self.paths.redis_pidfile, pid)
        return pid

    def wait_ready(self, pid: int, timeout_s: float = 30.0) -> None:
        """Block until the server answers PING (it first replays its append-only file)."""
        client = redis_client.Redis(
            host=self.settings.redis.host, port=self.port, socket_connect_timeout=1
        )
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                # The launcher prints the pid between fork and exec, so for a moment the process
                # is still a shell: only its end, not its name, means the server died.
                if not is_running(pid):
                    detail = tail(self.paths.logs / "redis.out") or tail(self.paths.redis_log)
                    raise StackError(
                        f"Redis exited while starting; see {self.paths.redis_log}:\n{detail}"
                    )
                try:
                    if client.ping():
                        return
                except (redis_client.ConnectionError, redis_client.TimeoutError):
                    pass  # not listening yet, or still loading its append-only file
                if time.monotonic() > deadline:
                    raise StackError(
                        f"Redis (pid {pid}) did not answer PING on port {self.port} "
                        f"within {timeout_s:.0f} s; see {self.paths.redis_log}"
                    )
                time.sleep(0.1)
        finally:
            client.close()

    def stop(self, timeout_s: float = 30.0) -> Stopped | None:
        """Stop the server (SIGTERM flushes the append-only file); None if it was not running."""
        pid = self.pid()
        self.paths.redis_pidfile.unlink(missing_ok=True)
        if pid is None:
            return None
        log.info("stopping Redis (pid %d)", pid)
        return Stopped(self.name, pid, terminate([pid], timeout_s)[pid])
