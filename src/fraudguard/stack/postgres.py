"""The local PostgreSQL server: one cluster in the stack home, on loopback, for the panel.

It is not part of ``LocalStack.up`` (the scoring job does not need it): ``fraudguard stack
postgres up`` and the integration tests start it. PostgreSQL refuses to run as root, so a root
stack runs its programs as Debian's ``postgres`` user, through ``setpriv``, which execs instead
of forking (the pid recorded is the server's), and the cluster's folder belongs to that user.
"""

from __future__ import annotations

import logging
import os
import pwd
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fraudguard.config import ENV_PREFIX, Settings
from fraudguard.errors import StackError
from fraudguard.stack import health
from fraudguard.stack.layout import StackPaths
from fraudguard.stack.process import (
    cmdline,
    file_lock,
    is_running,
    service_pid,
    spawn_detached,
    tail,
    terminate,
    works_in_deleted_folder,
    write_pid,
)
from fraudguard.stack.status import ServiceStatus, Stopped

log = logging.getLogger(__name__)

OS_USER = "postgres"
"""The account Debian's package creates; the server runs as it when the stack runs as root."""
SUPERUSER = "postgres"
"""The cluster's first role, which creates the panel's role and database."""
HBA = (
    "# The local stack's own cluster, for tests and development only: connections from\n"
    "# loopback need no password, and nothing else may connect.\n"
    "host all all 127.0.0.1/32 trust\n"
)


def as_cluster_owner(argv: Sequence[str], euid: int) -> list[str]:
    """``argv`` run as the ``postgres`` user when this process is root, else as it is."""
    if euid != 0:
        return list(argv)
    return ["setpriv", f"--reuid={OS_USER}", f"--regid={OS_USER}", "--init-groups", "--", *argv]


def initdb_command(bin_dir: Path, paths: StackPaths) -> list[str]:
    """``initdb``: C locale and UTF-8, so the cluster does not depend on the machine's locales."""
    return [str(bin_dir / "initdb"), "-D", str(paths.postgres_dir), "-U", SUPERUSER,
            "--encoding=UTF8", "--locale=C", "--auth=trust"]  # fmt: skip


def postgres_command(bin_dir: Path, settings: Settings, paths: StackPaths) -> list[str]:
    """The server's command line; it names the data folder, so the stack finds it by home."""
    return [
        str(bin_dir / "postgres"), "-D", str(paths.postgres_dir),
        "-c", f"listen_addresses={settings.postgres.host}",
        "-c", f"port={settings.postgres.port}",
        # TCP only: a socket path under a deep home can exceed the 107 bytes Unix allows.
        "-c", "unix_socket_directories=",
    ]  # fmt: skip


class PostgresServer:
    """The PostgreSQL cluster of one stack home; its pid is trusted only if its command line
    names that home's data folder."""

    name = "postgres"

    def __init__(
        self, settings: Settings, paths: StackPaths, euid: Callable[[], int] = os.geteuid
    ) -> None:
        self.settings = settings
        self.paths = paths
        self.euid = euid

    @classmethod
    def from_settings(cls, settings: Settings) -> PostgresServer:
        return cls(settings, StackPaths.from_settings(settings))

    def _ours(self, pid: int) -> bool:
        line = cmdline(pid) or ""
        return "/postgres " in line and f"-D {self.paths.postgres_dir} " in line

    def pid(self) -> int | None:
        """The running server's pid: from the pidfile, else found by its command line."""
        return service_pid(self.paths.postgres_pidfile, self.paths.home, self._ours)

    def status(self) -> ServiceStatus:
        pid, pg = self.pid(), self.settings.postgres
        return ServiceStatus(self.name, pid is not None, pid, pg.host, pg.port)

    def check_config(self, pid: int) -> None:
        """Fail when the running server was started with another address or port."""
        options = [arg.partition("=") for arg in (cmdline(pid) or "").split(" ")]
        running = {name: value for name, equals, value in options if equals}
        pg = self.settings.postgres
        if (running.get("listen_addresses"), running.get("port")) != (pg.host, str(pg.port)):
            raise StackError(
                f"PostgreSQL (pid {pid}) listens on {running.get('listen_addresses')}:"
                f"{running.get('port')}, but the settings ask for {pg.host}:{pg.port}; "
                "run `fraudguard stack postgres down` first"
            )

    def up(self, timeout_s: float = 60.0) -> int:
        """Start the server unless it runs (creating the cluster the first time), wait until
        it answers, make the panel's role and database if missing; the server's pid."""
        with file_lock(self.paths.postgres_lock):
            pid = self.pid()
            if pid is not None and works_in_deleted_folder(pid):
                log.warning("stopping PostgreSQL (pid %d): its home was deleted under it", pid)
                terminate([pid], timeout_s, first=signal.SIGINT)
                pid = None
            if pid is not None:
                self.check_config(pid)
            else:
                bin_dir = self.cluster_bin_dir(health.check_postgres())
                pg = self.settings.postgres
                health.check_port(pg.port, pg.host, "PostgreSQL", set(), self.paths.home,
                                  setting=f"{ENV_PREFIX}POSTGRES__PORT")  # fmt: skip
                if not (self.paths.postgres_dir / "PG_VERSION").exists():
                    self.init(bin_dir)
                pid = self.start(bin_dir)
            self.wait_ready(pid, timeout_s)
            # Every time, not only after initdb: a first start may have stopped in between.
            self.ensure_database()
        return pid

    def cluster_bin_dir(self, newest: Path) -> Path:
        """The programs of the cluster's own major version (a cluster made by one major version
        does not start with another's), or of the newest when there is no cluster yet."""
        try:
            version = (self.paths.postgres_dir / "PG_VERSION").read_text().strip()
        except OSError:
            return newest
        own = newest.parent.parent / version / "bin"
        if not (own / "postgres").exists():
            raise StackError(
                f"{self.paths.postgres_dir} holds a PostgreSQL {version} cluster, which is not "
                f"installed; delete that folder to make a new one with {newest.parent.name}"
            )
        return own

    def init(self, bin_dir: Path) -> None:
        """Make the cluster in an empty folder owned by the user the server runs as."""
        data = self.paths.postgres_dir
        data.mkdir(parents=True, exist_ok=True)
        data.chmod(0o700)
        if self.euid() == 0:
            try:
                owner = pwd.getpwnam(OS_USER)
            except KeyError:
                raise StackError(
                    f"there is no `{OS_USER}` user to run PostgreSQL as (it refuses root)"
                ) from None
            os.chown(data, owner.pw_uid, owner.pw_gid)
        log.info("creating the PostgreSQL cluster in %s", data)
        command = as_cluster_owner(initdb_command(bin_dir, self.paths), self.euid())
        done = subprocess.run(command, cwd=data, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise StackError(
                f"initdb failed in {data} (the `{OS_USER}` user must be able to enter every "
                f"folder above it):\n{(done.stderr or done.stdout).strip()[-2000:]}"
            )
        (data / "pg_hba.conf").write_text(HBA)  # rewritten in place: its owner stays

    def start(self, bin_dir: Path) -> int:
        """Start the server detached and record its pid; the caller waits for readiness."""
        pg = self.settings.postgres
        log.info("starting PostgreSQL on %s:%d", pg.host, pg.port)
        command = postgres_command(bin_dir, self.settings, self.paths)
        pid = spawn_detached(
            as_cluster_owner(command, self.euid()), self.paths.postgres_log, self.paths.home
        )
        write_pid(self.paths.postgres_pidfile, pid)
        return pid

    def connect(self, database: str, user: str = SUPERUSER) -> Any:
        """A psycopg connection in autocommit mode (``CREATE DATABASE`` refuses transactions)."""
        # Imported here: the panel needs psycopg, the Kafka and Redis stack does not.
        import psycopg

        pg = self.settings.postgres
        return psycopg.connect(host=pg.host, port=pg.port, user=user, dbname=database,
                               connect_timeout=2, autocommit=True)  # fmt: skip

    def wait_ready(self, pid: int, timeout_s: float = 60.0) -> None:
        """Block until the server accepts a connection (it may first replay its WAL)."""
        import psycopg

        deadline = time.monotonic() + timeout_s
        while True:
            if not is_running(pid):
                raise StackError(
                    f"PostgreSQL exited while starting; see {self.paths.postgres_log}:\n"
                    f"{tail(self.paths.postgres_log)}"
                )
            try:
                with self.connect("postgres"):
                    return
            except psycopg.OperationalError:
                pass  # not listening yet, or "the database system is starting up"
            if time.monotonic() > deadline:
                raise StackError(
                    f"PostgreSQL (pid {pid}) did not accept a connection on port "
                    f"{self.settings.postgres.port} within {timeout_s:.0f} s; "
                    f"see {self.paths.postgres_log}"
                )
            time.sleep(0.1)

    def ensure_database(self) -> None:
        """The panel's role and its database. The role may create databases, so that tests
        make a fresh one each without the superuser."""
        from psycopg import sql

        pg = self.settings.postgres
        role, database = sql.Identifier(pg.user), sql.Identifier(pg.database)
        with self.connect("postgres") as conn:
            found = "SELECT 1 FROM pg_roles WHERE rolname = %s"
            if conn.execute(found, [pg.user]).fetchone() is None:
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEDB").format(role))
            found = "SELECT 1 FROM pg_database WHERE datname = %s"
            if conn.execute(found, [pg.database]).fetchone() is None:
                conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(database, role))

    def create_database(self, name: str) -> str:
        """A new, empty database owned by the panel's role; its SQLAlchemy URL."""
        from psycopg import sql

        pg = self.settings.postgres
        with self.connect(pg.database, pg.user) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return pg.url_of(name)

    def drop_database(self, name: str) -> None:
        """Drop ``name``, closing whatever connections are still open on it."""
        from psycopg import sql

        pg = self.settings.postgres
        with self.connect(pg.database, pg.user) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))  # fmt: skip

    def stop(self, timeout_s: float = 60.0) -> Stopped | None:
        """Stop the server; None if it was not running."""
        with file_lock(self.paths.postgres_lock):
            pid = self.pid()
            self.paths.postgres_pidfile.unlink(missing_ok=True)
            if pid is None:
                return None
            log.info("stopping PostgreSQL (pid %d)", pid)
            # SIGINT is PostgreSQL's fast shutdown; after SIGTERM it would wait for every client.
            forced = terminate([pid], timeout_s, first=signal.SIGINT)[pid]
        return Stopped(self.name, pid, forced)
