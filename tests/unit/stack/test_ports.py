"""Port owners found through a fake /proc tree, so no real socket is needed (but for the
connection that holds a port without listening on it)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from fraudguard.config import Settings
from fraudguard.errors import StackError
from fraudguard.stack.health import check_port
from fraudguard.stack.ports import (
    LINUX_EPHEMERAL_PORTS,
    conflicts,
    ephemeral_ports,
    parse_proc_net_tcp,
    port_owners,
)

HEADER = (
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt"
    "   uid  timeout inode\n"
)
TAIL = (
    "00000000:00000000 00:00000000 00000000     0        0 {inode} 1 0000000000000000 100 0 0 10 0"
)


def tcp_line(address: str, state: str, inode: int) -> str:
    return f"   0: {address} 00000000:0000 {state} {TAIL.format(inode=inode)}\n"


def fake_proc(tmp_path: Path, tcp: str = "", tcp6: str = "") -> Path:
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "tcp").write_text(HEADER + tcp)
    (tmp_path / "net" / "tcp6").write_text(HEADER + tcp6)
    return tmp_path


def fake_process(proc: Path, pid: int, argv: list[str], sockets: list[int]) -> None:
    folder = proc / str(pid)
    (folder / "fd").mkdir(parents=True)
    (folder / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
    (folder / "stat").write_text(f"{pid} ({Path(argv[0]).name}) S 1 {pid} {pid} 0")
    for fd, inode in enumerate(sockets, start=3):
        os.symlink(f"socket:[{inode}]", folder / "fd" / str(fd))


def test_parse_keeps_only_listening_sockets() -> None:
    text = HEADER + tcp_line("0100007F:2384", "0A", 11) + tcp_line("0100007F:2384", "01", 12)
    assert [(x.address, x.port, x.inode) for x in parse_proc_net_tcp(text)] == [
        ("127.0.0.1", 9092, 11)
    ]


def test_parse_decodes_ipv6_mapped_loopback() -> None:
    # How the kernel prints ::ffff:127.0.0.1, the address a Java broker binds for 127.0.0.1.
    text = HEADER + tcp_line("0000000000000000FFFF00000100007F:18EB", "0A", 7)
    assert parse_proc_net_tcp(text)[0][:2] == ("::ffff:127.0.0.1", 6379)


@pytest.mark.parametrize(
    ("address", "clashes"),
    [
        ("127.0.0.1", True),
        ("0.0.0.0", True),
        ("::", True),
        ("::ffff:127.0.0.1", True),
        ("127.0.0.2", False),
        ("::1", False),
    ],
)
def test_which_addresses_clash_with_loopback(address: str, clashes: bool) -> None:
    assert conflicts(address, "127.0.0.1") is clashes


def test_owner_found_through_its_socket_inode(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, tcp=tcp_line("00000000:18EB", "0A", 4242))
    fake_process(proc, 77, ["/usr/bin/other-redis", "--port", "6379"], [99, 4242])
    [owner] = port_owners(6379, "127.0.0.1", proc)
    assert (owner.pid, owner.command) == (77, "/usr/bin/other-redis --port 6379")


def test_free_port_has_no_owner(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, tcp=tcp_line("0200007F:18EB", "0A", 1))  # 127.0.0.2 only
    assert port_owners(6379, "127.0.0.1", proc) == []


def test_foreign_owner_is_named_in_the_error(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, tcp=tcp_line("0100007F:2384", "0A", 5))
    fake_process(proc, 321, ["java", "kafka.Kafka", "/elsewhere/server.properties"], [5])
    with pytest.raises(StackError) as caught:
        check_port(9092, "127.0.0.1", "Kafka", set(), Path("/srv/fg"), proc, "FG_PORT")
    message = str(caught.value)
    assert "port 9092 (Kafka) is taken by pid 321 (java kafka.Kafka /elsewhere" in message
    assert "set FG_PORT to a free port" in message


def test_invisible_owner_still_names_the_port(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, tcp=tcp_line("0100007F:2384", "0A", 5))
    with pytest.raises(StackError, match="port 9092 .*cannot see"):
        check_port(9092, "127.0.0.1", "Kafka", set(), Path("/srv/fg"), proc)


def test_our_own_service_may_hold_the_port(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, tcp=tcp_line("0100007F:2384", "0A", 5))
    fake_process(proc, 321, ["java", "kafka.Kafka", "/srv/fg/kafka/server.properties"], [5])
    check_port(9092, "127.0.0.1", "Kafka", {321}, Path("/srv/fg"), proc)
    # Without a pidfile, the home path in its command line still marks it as ours.
    check_port(9092, "127.0.0.1", "Kafka", set(), Path("/srv/fg"), proc)


def test_a_sibling_home_is_not_ours(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, tcp=tcp_line("0100007F:2384", "0A", 5))
    fake_process(proc, 321, ["java", "kafka.Kafka", "/srv/fg-other/kafka/server.properties"], [5])
    with pytest.raises(StackError, match="pid 321"):
        check_port(9092, "127.0.0.1", "Kafka", set(), Path("/srv/fg"), proc)


def test_the_outgoing_connections_range_is_read_from_the_kernel(tmp_path: Path) -> None:
    (tmp_path / "sys/net/ipv4").mkdir(parents=True)
    (tmp_path / "sys/net/ipv4/ip_local_port_range").write_text("20000\t20999\n")
    assert ephemeral_ports(tmp_path) == range(20000, 21000)
    assert ephemeral_ports(tmp_path / "missing") == LINUX_EPHEMERAL_PORTS


def fixed_ports(settings: BaseModel, path: str = "") -> Iterator[tuple[str, int]]:
    for name, value in settings:
        if isinstance(value, BaseModel):
            yield from fixed_ports(value, f"{path}{name}.")
        elif name.endswith("port") and isinstance(value, int) and value:
            yield f"{path}{name}", value


def test_no_default_port_lies_where_outgoing_connections_take_theirs() -> None:
    ports = dict(fixed_ports(Settings()))
    assert {"kafka.bootstrap_port", "redis.port", "postgres.port", "panel.port"} <= set(ports)
    inside = {name: port for name, port in ports.items() if port in LINUX_EPHEMERAL_PORTS}
    assert inside == {}


def test_a_port_held_by_a_connection_is_explained() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        with socket.create_connection(server.getsockname()) as client:
            held = client.getsockname()[1]
            accepted, _ = server.accept()
            with accepted, pytest.raises(StackError) as caught:
                check_port(held, "127.0.0.1", "PostgreSQL", set(), Path("/srv/fg"))
    message = str(caught.value)
    assert f"port {held} (PostgreSQL) on 127.0.0.1 is already in use" in message
    assert held in ephemeral_ports() and "range for outgoing connections" in message
