"""Preflight messages name the cause; every external effect is replaced by a fake."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from fraudguard.errors import StackError
from fraudguard.stack.health import check_java, check_maven, check_postgres, check_redis_server


def which_of(**found: str) -> Any:
    return lambda name: found.get(name.replace("-", "_"))


def java_says(text: str) -> Any:
    def run(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        assert command[1:] == ["-version"]
        return subprocess.CompletedProcess(command, 0, stdout="", stderr=text)

    return run


def test_java_17_passes() -> None:
    run = java_says('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment')
    assert check_java(which_of(java="/usr/bin/java"), run) == "/usr/bin/java"


def test_missing_java_is_named() -> None:
    with pytest.raises(StackError, match=r"Java is not installed \(no `java` on PATH\)"):
        check_java(which_of(), java_says(""))


@pytest.mark.parametrize(
    ("text", "version"),
    [('java version "1.8.0_292"', 8), ('openjdk version "11.0.2" 2019-01-15', 11)],
)
def test_old_java_is_refused_with_its_version(text: str, version: int) -> None:
    with pytest.raises(StackError, match=rf"Java {version}; Kafka needs Java 17 or newer"):
        check_java(which_of(java="/opt/java"), java_says(text))


def test_unreadable_java_version() -> None:
    with pytest.raises(StackError, match="cannot tell the Java version"):
        check_java(which_of(java="/opt/java"), java_says("Error: broken"))


def test_missing_maven_is_named() -> None:
    with pytest.raises(StackError, match=r"Maven is not installed \(no `mvn` on PATH\)"):
        check_maven(which_of())
    assert check_maven(which_of(mvn="/usr/bin/mvn")) == "/usr/bin/mvn"


def test_redis_present_needs_nothing() -> None:
    def run(*_: Any, **__: Any) -> Any:
        raise AssertionError("nothing to install")

    assert check_redis_server(which_of(redis_server="/usr/bin/redis-server"), run) == (
        "/usr/bin/redis-server"
    )


def test_redis_missing_without_root_tells_the_command() -> None:
    with pytest.raises(StackError) as caught:
        check_redis_server(which_of(apt_get="/usr/bin/apt-get"), euid=lambda: 1000)
    assert "sudo apt-get install -y redis-server" in str(caught.value)


def test_redis_missing_as_root_is_installed_after_refreshing_lists() -> None:
    installed: dict[str, str] = {"apt_get": "/usr/bin/apt-get"}
    calls: list[list[str]] = []

    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        assert kwargs["env"]["DEBIAN_FRONTEND"] == "noninteractive"
        if command[1] == "install" and calls.count(["apt-get", "update"]):
            installed["redis_server"] = "/usr/bin/redis-server"
            return subprocess.CompletedProcess(command, 0, "", "")
        if command[1] == "update":
            return subprocess.CompletedProcess(command, 0, "", "")
        return subprocess.CompletedProcess(command, 100, "", "E: Unable to locate package")

    which = lambda name: installed.get(name.replace("-", "_"))  # noqa: E731
    assert check_redis_server(which, run, euid=lambda: 0) == "/usr/bin/redis-server"
    assert calls == [
        ["apt-get", "install", "-y", "redis-server"],
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "redis-server"],
    ]


def test_redis_not_installable_shows_apt_error() -> None:
    def run(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 100, "", "E: Unable to locate package")

    with pytest.raises(StackError) as caught:
        check_redis_server(which_of(apt_get="/usr/bin/apt-get"), run, euid=lambda: 0)
    assert "`apt-get install -y redis-server` failed: E: Unable to locate package" in str(
        caught.value
    )


def test_redis_without_apt_get() -> None:
    with pytest.raises(StackError, match="no apt-get"):
        check_redis_server(which_of(), euid=lambda: 0)


def postgres_installed(root: Path, *versions: str, programs: tuple[str, ...] = ()) -> Path:
    for version in versions:
        (root / version / "bin").mkdir(parents=True)
        for program in programs or ("initdb", "postgres"):
            (root / version / "bin" / program).touch()
    return root


def test_the_newest_postgres_server_is_found_by_version_number(tmp_path: Path) -> None:
    root = postgres_installed(tmp_path, "9.6", "15")
    postgres_installed(root, "16", programs=("psql",))  # the client alone is no server

    def run(*_: Any, **__: Any) -> Any:
        raise AssertionError("nothing to install")

    assert check_postgres(which_of(), run, euid=lambda: 1000, root=root) == root / "15" / "bin"


def test_postgres_missing_without_root_tells_the_command(tmp_path: Path) -> None:
    with pytest.raises(StackError) as caught:
        check_postgres(which_of(apt_get="/usr/bin/apt-get"), euid=lambda: 1000, root=tmp_path)
    assert "PostgreSQL is not installed; install it with `sudo apt-get install -y postgresql`" in (
        str(caught.value)
    )


def test_postgres_missing_as_root_is_installed(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        assert kwargs["env"]["DEBIAN_FRONTEND"] == "noninteractive"
        postgres_installed(tmp_path, "15")
        return subprocess.CompletedProcess(command, 0, "", "")

    which = which_of(apt_get="/usr/bin/apt-get")
    assert check_postgres(which, run, euid=lambda: 0, root=tmp_path) == tmp_path / "15" / "bin"
    assert calls == [["apt-get", "install", "-y", "postgresql"]]


def test_postgres_without_apt_get(tmp_path: Path) -> None:
    with pytest.raises(StackError, match="no apt-get to install it; install a PostgreSQL server"):
        check_postgres(which_of(), euid=lambda: 0, root=tmp_path)
