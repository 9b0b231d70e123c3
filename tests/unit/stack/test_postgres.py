"""PostgreSQL's command lines, settings and version choice, without starting a server."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from fraudguard.config import PostgresSettings, Settings
from fraudguard.errors import StackError
from fraudguard.stack import postgres as postgres_module
from fraudguard.stack.layout import StackPaths
from fraudguard.stack.postgres import (
    PostgresServer,
    as_cluster_owner,
    initdb_command,
    postgres_command,
)

BIN = Path("/usr/lib/postgresql/15/bin")


def server_of(tmp_path: Path, port: int = 15432) -> PostgresServer:
    settings = Settings(home=tmp_path, postgres=PostgresSettings(port=port))
    return PostgresServer.from_settings(settings)


def test_settings_give_the_panel_url_and_follow_the_environment() -> None:
    assert Settings().postgres.url == "postgresql+psycopg://fraudguard@127.0.0.1:15432/fraudguard"
    env = {"FRAUDGUARD_POSTGRES__PORT": "15499", "FRAUDGUARD_POSTGRES__DATABASE": "ops"}
    settings = Settings.from_env(env).postgres
    assert settings.url == "postgresql+psycopg://fraudguard@127.0.0.1:15499/ops"
    assert settings.url_of("t1") == "postgresql+psycopg://fraudguard@127.0.0.1:15499/t1"


def test_the_cluster_lives_under_the_home(tmp_path: Path) -> None:
    paths = StackPaths.from_settings(Settings(home=tmp_path))
    assert (paths.postgres_dir, paths.postgres_log, paths.postgres_pidfile) == (
        tmp_path / "postgres",
        tmp_path / "logs" / "postgres.log",
        tmp_path / "run" / "postgres.pid",
    )


def test_server_listens_on_loopback_tcp_only_and_names_its_folder(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, postgres=PostgresSettings(port=15499))
    assert postgres_command(BIN, settings, StackPaths.from_settings(settings)) == [
        f"{BIN}/postgres", "-D", f"{tmp_path}/postgres",
        "-c", "listen_addresses=127.0.0.1", "-c", "port=15499", "-c", "unix_socket_directories=",
    ]  # fmt: skip


def test_initdb_names_the_superuser_and_a_machine_independent_locale(tmp_path: Path) -> None:
    paths = StackPaths.from_settings(Settings(home=tmp_path))
    assert initdb_command(BIN, paths) == [
        f"{BIN}/initdb", "-D", f"{tmp_path}/postgres", "-U", "postgres",
        "--encoding=UTF8", "--locale=C", "--auth=trust",
    ]  # fmt: skip


def test_root_runs_the_programs_as_the_postgres_user() -> None:
    assert as_cluster_owner(["initdb", "-D", "/x"], euid=0) == [
        "setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--",
        "initdb", "-D", "/x",
    ]  # fmt: skip
    assert as_cluster_owner(["initdb", "-D", "/x"], euid=1000) == ["initdb", "-D", "/x"]


def test_running_server_on_another_port_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = server_of(tmp_path)
    line = " ".join(postgres_command(BIN, running.settings, running.paths))
    monkeypatch.setattr(postgres_module, "cmdline", lambda pid: line)
    with pytest.raises(
        StackError, match="listens on 127.0.0.1:15432, but the settings ask for 127.0.0.1:15433"
    ):
        server_of(tmp_path, port=15433).check_config(1234)
    running.check_config(1234)


def installed(root: Path, *versions: str) -> Path:
    for version in versions:
        (root / version / "bin").mkdir(parents=True)
        for program in ("initdb", "postgres"):
            (root / version / "bin" / program).touch()
    return root


def test_a_cluster_keeps_the_major_version_that_made_it(tmp_path: Path) -> None:
    root = installed(tmp_path / "lib", "15", "16")
    server = server_of(tmp_path)
    assert server.cluster_bin_dir(root / "16" / "bin") == root / "16" / "bin"  # no cluster yet
    server.paths.postgres_dir.mkdir()
    (server.paths.postgres_dir / "PG_VERSION").write_text("15\n")
    assert server.cluster_bin_dir(root / "16" / "bin") == root / "15" / "bin"
    (server.paths.postgres_dir / "PG_VERSION").write_text("14\n")
    with pytest.raises(StackError, match="holds a PostgreSQL 14 cluster, which is not installed"):
        server.cluster_bin_dir(root / "16" / "bin")


def test_nothing_running_is_reported_and_stopping_it_is_harmless(tmp_path: Path) -> None:
    server = server_of(tmp_path)
    assert not server.status().running and server.status().port == 15432
    assert server.stop(timeout_s=1) is None


def test_a_server_that_dies_while_starting_is_reported_not_waited_for(tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    with pytest.raises(StackError, match="PostgreSQL exited while starting"):
        server_of(tmp_path, port=1).wait_ready(dead.pid, timeout_s=5)
