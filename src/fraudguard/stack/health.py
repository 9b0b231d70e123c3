"""Preflight checks: fail before starting anything, with a message that names the cause.

A half-started stack is harder to diagnose than one that refuses to start, so every tool and
port the stack needs is checked first. External effects (``which``, ``run``, the effective
uid, ``/proc``) are parameters so the messages can be tested without the real machine.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import socket
import subprocess
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from fraudguard.config import ENV_PREFIX, Settings
from fraudguard.errors import StackError
from fraudguard.stack.ports import PROC, ephemeral_ports, port_owners
from fraudguard.stack.process import home_needle

MIN_JAVA = 17
POSTGRES_ROOT = Path("/usr/lib/postgresql")

Which = Callable[[str], str | None]
Run = Callable[..., subprocess.CompletedProcess[Any]]

_JAVA_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?[^"]*"')


def parse_java_version(text: str) -> int | None:
    """The major version in the output of ``java -version`` (``1.8`` counts as 8).

    >>> parse_java_version('openjdk version "17.0.15" 2025-04-15')
    17
    >>> parse_java_version('java version "1.8.0_292"')
    8
    >>> parse_java_version('openjdk version "21" 2023-09-19')
    21
    """
    match = _JAVA_VERSION.search(text)
    if match is None:
        return None
    major = int(match.group(1))
    if major == 1 and match.group(2) is not None:
        return int(match.group(2))
    return major


def check_java(which: Which = shutil.which, run: Run = subprocess.run) -> str:
    """Path of a Java 17+ ``java``: Kafka 4 brokers do not run on older releases."""
    java = which("java")
    if java is None:
        raise StackError(
            f"Java is not installed (no `java` on PATH); Kafka needs Java {MIN_JAVA} or newer, "
            "e.g. `apt-get install -y openjdk-17-jre-headless`"
        )
    try:
        done = run([java, "-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        raise StackError(f"`{java} -version` failed: {exc}") from exc
    output = f"{done.stderr}\n{done.stdout}"
    version = parse_java_version(output)
    if version is None:
        first = output.strip().splitlines()[:1]
        raise StackError(f"cannot tell the Java version of {java} from {first!r}")
    if version < MIN_JAVA:
        raise StackError(f"{java} is Java {version}; Kafka needs Java {MIN_JAVA} or newer on PATH")
    return java


def check_maven(which: Which = shutil.which) -> str:
    """Path of ``mvn``, which resolves the Kafka broker's jars and builds the project's Java."""
    mvn = which("mvn")
    if mvn is None:
        raise StackError(
            "Maven is not installed (no `mvn` on PATH); it downloads the Kafka and Flink jars, "
            "e.g. `apt-get install -y maven`"
        )
    return mvn


def debian_program(
    program: str,
    package: str,
    find: Callable[[], str | None],
    elsewhere: str,
    which: Which = shutil.which,
    run: Run = subprocess.run,
    euid: Callable[[], int] = os.geteuid,
) -> str:
    """What ``find`` finds of ``program``, after installing Debian's ``package`` when it finds
    nothing and this runs as root; ``elsewhere`` says what to install without apt-get."""
    found = find()
    if found is not None:
        return found
    command = f"apt-get install -y {package}"
    if euid() != 0:
        raise StackError(f"{program} is not installed; install it with `sudo {command}`")
    if which("apt-get") is None:
        raise StackError(
            f"{program} is not installed and there is no apt-get to install it; {elsewhere}"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = command.split()
    done = run(install, capture_output=True, text=True, env=env, timeout=900)
    if done.returncode != 0:
        # The package lists may simply be empty on a fresh machine: refresh them, then retry.
        refreshed = run(["apt-get", "update"], capture_output=True, text=True, env=env, timeout=900)
        if refreshed.returncode == 0:
            done = run(install, capture_output=True, text=True, env=env, timeout=900)
    installed = find()
    if done.returncode == 0 and installed is not None:
        return installed
    last = (done.stderr or done.stdout or "").strip().splitlines()[-1:] or ["no output"]
    raise StackError(f"{program} is not installed and `{command}` failed: {last[0]}")


def check_redis_server(
    which: Which = shutil.which,
    run: Run = subprocess.run,
    euid: Callable[[], int] = os.geteuid,
) -> str:
    """Path of ``redis-server``, installing Debian's package when running as root."""
    return debian_program(
        "redis-server",
        "redis-server",
        lambda: which("redis-server"),
        "install Redis 6.2 or newer so that `redis-server` is on PATH",
        which,
        run,
        euid,
    )


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split("."))


def postgres_bindir(root: Path = POSTGRES_ROOT) -> Path | None:
    """The ``bin`` folder of the newest PostgreSQL server under ``root``, where Debian keeps
    each major version's programs (``initdb`` and ``postgres`` are not on PATH). A client-only
    version (``psql`` without ``postgres``) does not count."""
    try:
        versions = [d for d in root.iterdir() if re.fullmatch(r"\d+(\.\d+)?", d.name)]
    except OSError:
        return None
    servers = [
        version / "bin"
        for version in versions
        if all((version / "bin" / program).exists() for program in ("initdb", "postgres"))
    ]
    return max(servers, key=lambda bin_dir: _version_key(bin_dir.parent.name), default=None)


def check_postgres(
    which: Which = shutil.which,
    run: Run = subprocess.run,
    euid: Callable[[], int] = os.geteuid,
    root: Path = POSTGRES_ROOT,
) -> Path:
    """The newest PostgreSQL server's ``bin`` folder, installing Debian's package when root."""

    def find() -> str | None:
        found = postgres_bindir(root)
        return None if found is None else str(found)

    elsewhere = f"install a PostgreSQL server so that {root}/<version>/bin/postgres exists"
    return Path(debian_program("PostgreSQL", "postgresql", find, elsewhere, which, run, euid))


def _bind_refused(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


def check_port(
    port: int,
    host: str,
    service: str,
    ours: Collection[int],
    home: Path,
    proc: Path = PROC,
    setting: str | None = None,
) -> None:
    """Fail when ``port`` is held by anything but our own running service.

    ``ours`` are pids of this stack's services; a process whose command line names ``home``
    is ours too (a service whose pidfile was lost), and ``up`` adopts it instead of failing.
    """
    needle = home_needle(home)
    remedy = f"set {setting} to a free port" if setting else f"move {service} to another port"
    owners = port_owners(port, host, proc)
    for owner in owners:
        if owner.pid in ours or (owner.command and needle in owner.command):
            continue
        raise StackError(
            f"port {port} ({service}) is taken by {owner.describe()}, which is not part of "
            f"the FraudGuard stack in {home}; stop it or {remedy}"
        )
    if not owners and not ours and proc == PROC and _bind_refused(host, port):
        outgoing = ephemeral_ports(proc)
        why = (
            f" (no process listens on it: {port} lies in the kernel's range for outgoing "
            f"connections, {outgoing.start}-{outgoing.stop - 1}, and a connection holds it; "
            f"choose a port below {outgoing.start})"
            if port in outgoing else ""
        )
        raise StackError(
            f"port {port} ({service}) on {host} is already in use by another process{why}; "
            f"stop it or {remedy}"
        )


def check_ports(settings: Settings, home: Path, ours: Mapping[str, int | None]) -> None:
    """Check the Kafka (bootstrap, controller) and Redis ports from ``settings``.

    ``ours`` maps a service name (``kafka``, ``redis``) to its running pid, if any.
    """
    kafka, redis = settings.kafka, settings.redis
    for port, host, label, name, setting in (
        (kafka.bootstrap_port, kafka.host, "Kafka", "kafka", "KAFKA__BOOTSTRAP_PORT"),
        (kafka.controller_port, kafka.host, "Kafka controller", "kafka", "KAFKA__CONTROLLER_PORT"),
        (redis.port, redis.host, "Redis", "redis", "REDIS__PORT"),
    ):
        pid = ours.get(name)
        ours_here = {pid} if pid else set()
        check_port(port, host, label, ours_here, home, setting=f"{ENV_PREFIX}{setting}")


class Tools(NamedTuple):
    java: str
    redis_server: str


def preflight(
    settings: Settings, home: Path, ours: Mapping[str, int | None], need_maven: bool
) -> Tools:
    """Every check ``up`` needs before it touches anything; Maven only if jars are missing."""
    java = check_java()
    if need_maven:
        check_maven()
    redis_server = check_redis_server()
    # After installing Redis: Debian's package may start a system redis-server of its own.
    check_ports(settings, home, ours)
    return Tools(java, redis_server)
