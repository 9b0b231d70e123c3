"""Jar resolution with a fake Maven: skipped while the pom is unchanged, swapped in whole."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from fraudguard.errors import StackError
from fraudguard.stack.maven import MARKER, JarSet, needs_resolve, resolve


class FakeMaven:
    """Copies the jars named in ``self.jars`` to the folder given by -Dfraudguard.lib."""

    def __init__(self, jars: list[str], returncode: int = 0) -> None:
        self.jars = jars
        self.returncode = returncode
        self.commands: list[list[str]] = []

    def __call__(self, command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        self.commands.append(command)
        [target] = [arg.split("=", 1)[1] for arg in command if arg.startswith("-Dfraudguard.lib=")]
        for jar in self.jars:
            (Path(target) / jar).write_text("jar")
        return subprocess.CompletedProcess(command, self.returncode, "", "[ERROR] no network")


@pytest.fixture
def jars(tmp_path: Path) -> JarSet:
    pom = tmp_path / "deploy" / "pom.xml"
    pom.parent.mkdir()
    pom.write_text("<project>v1</project>")
    return JarSet("kafka", pom, tmp_path / "lib" / "kafka")


def test_resolves_once_until_the_pom_changes(jars: JarSet) -> None:
    assert needs_resolve(jars)
    resolve(jars, run=FakeMaven(["kafka-4.1.1.jar"]))
    assert (jars.lib / MARKER).exists()
    assert not needs_resolve(jars)
    jars.pom.write_text("<project>v2</project>")
    assert needs_resolve(jars)


@pytest.mark.parametrize("beside", ["src/main/java/X.java", "kernel/pom.xml"])
def test_a_changed_source_or_module_pom_beside_the_pom_builds_again(
    jars: JarSet, beside: str
) -> None:
    source = jars.pom.parent / beside
    source.parent.mkdir(parents=True)
    source.write_text("class X {}")
    resolve(jars, run=FakeMaven(["ext.jar"]))
    assert not needs_resolve(jars)
    source.write_text("class X { int y; }")
    assert needs_resolve(jars)


def test_options_reach_maven_before_the_goal(jars: JarSet) -> None:
    maven = FakeMaven(["a.jar"])
    resolve(jars._replace(options=("-Dmaven.test.skip=true",)), run=maven)
    assert maven.commands[-1][-2:] == ["-Dmaven.test.skip=true", "package"]


def test_new_resolution_drops_stale_jars(jars: JarSet) -> None:
    resolve(jars, run=FakeMaven(["kafka-4.1.1.jar"]))
    resolve(jars, run=FakeMaven(["kafka-4.2.0.jar"]))
    assert sorted(p.name for p in jars.lib.glob("*.jar")) == ["kafka-4.2.0.jar"]
    assert not list(jars.lib.parent.glob(".kafka.*"))


def test_marker_without_jars_resolves_again(jars: JarSet) -> None:
    resolve(jars, run=FakeMaven(["a.jar"]))
    (jars.lib / "a.jar").unlink()
    assert needs_resolve(jars)


def test_maven_failure_keeps_old_jars_and_shows_output(jars: JarSet) -> None:
    resolve(jars, run=FakeMaven(["a.jar"]))
    with pytest.raises(StackError, match=r"(?s)Maven could not resolve the kafka jars.*no network"):
        resolve(jars, run=FakeMaven([], returncode=1))
    assert (jars.lib / "a.jar").exists()


def test_maven_copying_nothing_is_an_error(jars: JarSet) -> None:
    with pytest.raises(StackError, match="copied no jar"):
        resolve(jars, run=FakeMaven([]))
