"""The project's Java is built only when stale, into the home's lib folder; JUnit totals are
read from surefire's reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from fraudguard import jvm
from fraudguard.config import Settings
from fraudguard.errors import StackError
from fraudguard.stack import maven


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    pom = tmp_path / "repo" / "jvm" / "pom.xml"
    pom.parent.mkdir(parents=True)
    pom.write_text("<project/>")
    return Settings(home=tmp_path / "home", project_root=tmp_path / "repo")


def test_builds_once_until_a_source_changes(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds: list[maven.JarSet] = []

    def fake_resolve(jars: maven.JarSet, mvn: str) -> None:
        builds.append(jars)
        jars.lib.mkdir(parents=True, exist_ok=True)
        (jars.lib / "fraudguard-kernel.jar").write_text("jar")
        (jars.lib / maven.MARKER).write_text(maven.pom_digest(jars.pom))

    monkeypatch.setattr(maven, "resolve", fake_resolve)
    monkeypatch.setattr(jvm, "check_maven", lambda: "mvn")
    assert jvm.job_jars(settings) == []
    assert [p.name for p in jvm.ensure_built(settings)] == ["fraudguard-kernel.jar"]
    jvm.ensure_built(settings)
    assert len(builds) == 1
    (settings.project_root / "jvm" / "Kernel.java").write_text("class Kernel {}")
    jvm.ensure_built(settings)
    assert len(builds) == 2
    assert builds[0].lib == settings.home / "lib" / "flink"
    assert f"-Dfraudguard.home={settings.home}" in builds[0].options


def test_jars_built_elsewhere_are_marked_fresh(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = settings.home / "lib" / "flink"
    with pytest.raises(StackError, match="no jar"):
        jvm.mark_built(settings)
    lib.mkdir(parents=True)
    (lib / "fraudguard-kernel.jar").write_text("jar")
    jvm.mark_built(settings)

    def no_build(jars: maven.JarSet, mvn: str) -> None:
        raise AssertionError("marked jars were built again")

    monkeypatch.setattr(maven, "resolve", no_build)
    assert [p.name for p in jvm.ensure_built(settings)] == ["fraudguard-kernel.jar"]


def test_junit_totals_add_up_each_modules_reports(tmp_path: Path) -> None:
    for module, name, counts in [
        ("fraudguard-kernel", "A", 'tests="3" failures="1" errors="0" skipped="0"'),
        ("fraudguard-kernel", "B", 'tests="2" failures="0" errors="1" skipped="1"'),
        ("fraudguard-tools", "C", 'tests="4" failures="0" errors="0" skipped="0"'),
    ]:
        reports = tmp_path / module / "surefire-reports"
        reports.mkdir(parents=True, exist_ok=True)
        (reports / f"TEST-{name}.xml").write_text(f'<testsuite name="{name}" {counts}/>')
    totals = jvm.junit_totals(tmp_path)
    assert totals["kernel"] == {"tests": 5, "failures": 1, "errors": 1, "skipped": 1}
    assert totals["tools"]["tests"] == 4
