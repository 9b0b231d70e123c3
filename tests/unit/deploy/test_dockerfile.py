"""The Dockerfile, read as text (no Docker engine builds it here): pinned base images, the Flink
of constraints.txt, Python packages from constraints.txt, the project's Java built by Maven in a
build stage, and nothing fetched from an address or copied in prebuilt."""

from __future__ import annotations

import re
import shlex
import subprocess
import tomllib
from typing import Any
from xml.etree import ElementTree

from fraudguard.config import PROJECT_ROOT


def test_base_images_are_pinned_by_version(dockerfile: Any) -> None:
    for stage, image in dockerfile.stages.items():
        if image in dockerfile.stages:  # FROM an earlier stage
            continue
        name, _, tag = image.rpartition(":")
        assert name and "/" not in tag, f"stage {stage}: {image} has no tag"
        assert tag != "latest" and re.match(r"v?\d+\.\d+", tag), f"stage {stage}: {image}"


def test_flink_is_the_version_constraints_pin(dockerfile: Any, pins: dict[str, str]) -> None:
    flink = [image for image in dockerfile.stages.values() if image.startswith("flink:")]
    assert len(flink) == 1, dockerfile.stages
    version = flink[0].removeprefix("flink:").split("-")[0]
    assert version == pins["apache-flink"]
    pom = ElementTree.parse(PROJECT_ROOT / "jvm" / "pom.xml").getroot()
    assert pom.findtext("{*}properties/{*}flink.version") == version
    # The cluster and the client both run the official distribution of that version.
    copied = {i.args.split()[1] for i in dockerfile.of("COPY") if "--from=flink-dist" in i.args}
    assert copied == {"/opt/flink", "/opt/java/openjdk"}


def test_python_is_the_version_the_project_requires(dockerfile: Any) -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    minor = re.search(r">=\s*(3\.\d+)", project["requires-python"])
    assert minor is not None
    final = list(dockerfile.stages.values())[-1]
    assert final.startswith(f"python:{minor.group(1)}."), final


def test_every_pip_install_takes_the_constraints(dockerfile: Any) -> None:
    installs = [i for i in dockerfile.of("RUN") if "pip install" in i.args]
    assert installs
    for run in installs:
        words = shlex.split(run.args)
        assert words[words.index("-c") + 1] == "constraints.txt", run.args
        copied_before = [
            c
            for c in dockerfile.instructions[: dockerfile.instructions.index(run)]
            if c.keyword == "COPY" and c.stage == run.stage
        ]
        assert any("constraints.txt" in c.args.split()[:-1] for c in copied_before)


def test_java_is_built_by_maven_in_a_build_stage(dockerfile: Any) -> None:
    builds = [i for i in dockerfile.of("RUN") if re.match(r"mvn\b", i.args)]
    assert len(builds) == 1
    build = builds[0]
    words = build.args.split()
    assert words[words.index("-f") + 1] == "jvm/pom.xml" and "package" in words
    assert any(c.args.split()[0] == "jvm/" for c in dockerfile.of("COPY", build.stage))
    final = list(dockerfile.stages)[-1]
    assert build.stage != final
    assert any(c.args.startswith(f"--from={build.stage} ") for c in dockerfile.of("COPY", final))
    # The jars Maven built are marked fresh, and the project's own check agrees.
    assert any("fraudguard.jvm mark" in r.args for r in dockerfile.of("RUN", final))


def test_nothing_is_fetched_from_an_address_or_copied_in_prebuilt(dockerfile: Any) -> None:
    assert not dockerfile.of("ADD"), "ADD fetches and unpacks: COPY what the context holds"
    for run in dockerfile.of("RUN"):
        assert not re.search(r"\b(curl|wget)\b|://", run.args), run.args
    for copy in dockerfile.of("COPY"):
        if copy.args.startswith("--from="):
            continue
        sources = copy.args.split()[:-1]
        assert not any(s.endswith(".jar") or ".fraudguard" in s for s in sources), copy.args
    tracked = subprocess.run(
        ["git", "ls-files", "*.jar"], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert tracked.returncode == 0 and tracked.stdout == "", tracked.stdout


def test_build_context_leaves_out_local_state() -> None:
    ignored = (PROJECT_ROOT / ".dockerignore").read_text().split()
    assert {".fraudguard", ".venv", ".git"} <= set(ignored)


def test_compose_builds_stages_the_dockerfile_has(
    dockerfile: Any, services: dict[str, dict[str, Any]]
) -> None:
    targets = {s["build"]["target"] for s in services.values() if "build" in s}
    assert targets and targets <= set(dockerfile.stages)
    assert all(s["build"]["dockerfile"] == "Dockerfile" for s in services.values() if "build" in s)


def test_flink_configuration_is_the_images(dockerfile: Any) -> None:
    copies = {c.args.split()[-1]: c.args.split()[0] for c in dockerfile.of("COPY")}
    assert copies["/opt/flink/conf/config.yaml"] == "deploy/flink/config.yaml"
