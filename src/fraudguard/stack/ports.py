"""Who listens on a TCP port, read from ``/proc/net/tcp*`` and ``/proc/<pid>/fd``.

A port conflict is only useful to report if it names the culprit, so the listening socket's
inode is matched against every process's open file descriptors.

>>> parse_proc_net_tcp(
...     "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt"
...     "   uid  timeout inode\\n"
...     "   0: 0100007F:2384 00000000:0000 0A 00000000:00000000 00:00000000 00000000"
...     "     0        0 4242 1 0000000000000000 100 0 0 10 0\\n"
... )
[Listener(address='127.0.0.1', port=9092, inode=4242)]
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import NamedTuple

from fraudguard.stack.process import PROC, cmdline

_LISTEN = "0A"
LINUX_EPHEMERAL_PORTS = range(32768, 61000)
"""Linux's default ``net.ipv4.ip_local_port_range``: the ports outgoing connections take."""


class Listener(NamedTuple):
    address: str
    port: int
    inode: int


class PortOwner(NamedTuple):
    """A process holding a listening socket; ``pid`` is None when it cannot be seen."""

    port: int
    address: str
    pid: int | None
    command: str | None

    def describe(self) -> str:
        if self.pid is None:
            return f"a process this user cannot see (listening on {self.address}:{self.port})"
        command = self.command or "?"
        if len(command) > 120:
            command = command[:117] + "..."
        return f"pid {self.pid} ({command})"


def _decode_address(hex_address: str) -> str:
    # The kernel prints the address as 32-bit words in host byte order.
    raw = bytes.fromhex(hex_address)
    if sys.byteorder == "little":
        raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
    return socket.inet_ntop(family, raw)


def parse_proc_net_tcp(text: str) -> list[Listener]:
    """Listening sockets in the text of ``/proc/net/tcp`` or ``/proc/net/tcp6``."""
    listeners: list[Listener] = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or fields[3] != _LISTEN:
            continue
        address, _, port = fields[1].partition(":")
        listeners.append(Listener(_decode_address(address), int(port, 16), int(fields[9])))
    return listeners


def conflicts(address: str, host: str) -> bool:
    """Whether a socket listening on ``address`` stops a service from binding ``host``.

    >>> conflicts("0.0.0.0", "127.0.0.1"), conflicts("127.0.0.2", "127.0.0.1")
    (True, False)
    """
    return address in {host, "0.0.0.0", "::", f"::ffff:{host}"}


def listeners_on(port: int, host: str, proc: Path = PROC) -> list[Listener]:
    """Sockets listening on ``port`` at an address that clashes with ``host``."""
    found: list[Listener] = []
    for name in ("tcp", "tcp6"):
        try:
            text = (proc / "net" / name).read_text()
        except OSError:
            continue
        found.extend(
            item
            for item in parse_proc_net_tcp(text)
            if item.port == port and conflicts(item.address, host)
        )
    return found


def socket_owners(inodes: set[int], proc: Path = PROC) -> dict[int, int]:
    """Map socket inodes to the pid holding them (processes we may not inspect are skipped)."""
    targets = {f"socket:[{inode}]": inode for inode in inodes}
    owners: dict[int, int] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                link = str(fd.readlink())
            except OSError:
                continue
            if link in targets:
                owners.setdefault(targets[link], int(entry.name))
        if len(owners) == len(targets):
            break
    return owners


def port_owners(port: int, host: str, proc: Path = PROC) -> list[PortOwner]:
    """Every process listening on ``port`` in a way that clashes with ``host``; empty if free."""
    listeners = listeners_on(port, host, proc)
    if not listeners:
        return []
    owners = socket_owners({item.inode for item in listeners}, proc)
    result: list[PortOwner] = []
    for item in listeners:
        pid = owners.get(item.inode)
        command = cmdline(pid, proc) if pid is not None else None
        result.append(PortOwner(port, item.address, pid, command))
    return result


def ephemeral_ports(proc: Path = PROC) -> range:
    """The ports the kernel gives outgoing connections (``ip_local_port_range``).

    A service whose fixed port lies in it can find the port taken by any client's connection
    (a Kafka consumer, a browser), which listens on nothing and so has no listener to name.

    >>> outgoing = ephemeral_ports(Path("/nonexistent"))  # Linux's default
    >>> 55432 in outgoing, 15432 in outgoing
    (True, False)
    """
    try:
        low, high = (int(part) for part in
                     (proc / "sys/net/ipv4/ip_local_port_range").read_text().split()[:2])
    except (OSError, ValueError):
        return LINUX_EPHEMERAL_PORTS
    return range(low, high + 1)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on at ``host`` now (the kernel's choice); whoever binds it
    next may still lose it to another process in between.

    >>> 0 < free_port() < 65536
    True
    """
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
