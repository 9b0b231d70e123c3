"""The project's Java (``jvm/``, one Maven build), built once per change and run from its jars.

``jvm/`` holds the feature kernel and the tree scorer, the job's Flink operators and the entry
points the tests and benchmarks run. :func:`ensure_built` compiles it only when a pom or a
source changed since the last build (the hash marker of :mod:`fraudguard.stack.maven`), so
``make`` builds it once and any command that needs the jars works straight after
``pip install``. The jars, with Jackson and the Kafka connector, land in ``lib/flink``: the
job's ``pipeline.jars``, and with Flink's own jar the entry points' classpath; the local job's
Prometheus reporter lands in ``lib/flink/reporter`` (:func:`reporter_jars`).

    python -m fraudguard.jvm build   # `make jvm`
    python -m fraudguard.jvm test    # `make jvm-test`: the JUnit tests, then their totals
    python -m fraudguard.jvm mark    # the Dockerfile: jars Maven built in another stage
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from fraudguard.config import Settings
from fraudguard.errors import StackError
from fraudguard.stack import maven
from fraudguard.stack.health import check_maven


def _home(settings: Settings) -> Path:
    return Path(os.path.abspath(settings.home))


def jar_set(settings: Settings) -> maven.JarSet:
    """The project's jars: built from ``jvm/pom.xml`` into ``lib/flink``, build output under
    ``build/jvm``; tests skipped (:func:`run_tests` runs them)."""
    return maven.JarSet(
        "flink",
        settings.project_root / "jvm" / "pom.xml",
        _home(settings) / "lib" / "flink",
        (f"-Dfraudguard.home={_home(settings)}", "-Dmaven.test.skip=true"),
    )


@contextmanager
def _locked(jars: maven.JarSet) -> Iterator[None]:
    """One build at a time: a test run and a benchmark may both find the jars stale."""
    jars.lib.parent.mkdir(parents=True, exist_ok=True)
    with open(jars.lib.parent / f".{jars.name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_built(settings: Settings) -> list[Path]:
    """The project's jars, built first when missing or older than a pom or a source."""
    jars = jar_set(settings)
    with _locked(jars):
        if maven.needs_resolve(jars):
            maven.resolve(jars, check_maven())
    return job_jars(settings)


def mark_built(settings: Settings) -> Path:
    """Record the jars in ``lib/flink`` as built from ``jvm/`` as it is now, for jars Maven
    built elsewhere (the Dockerfile's build stage), so :func:`ensure_built` takes them as
    they are; returns the marker."""
    jars = jar_set(settings)
    if not any(jars.lib.glob("*.jar")):
        raise StackError(f"no jar in {jars.lib} to mark as built from {jars.pom}")
    marker = jars.lib / maven.MARKER
    marker.write_text(maven.pom_digest(jars.pom) + "\n")
    return marker


def job_jars(settings: Settings) -> list[Path]:
    """The jars the job ships in ``pipeline.jars``, as last built (none before a build)."""
    return sorted(jar_set(settings).lib.glob("*.jar"))


def reporter_jars(settings: Settings) -> list[Path]:
    """The local job's Prometheus reporter (``jvm/metrics``) and Flink's, which it extends, as
    last built: for the job JVM's own classpath, since the mini-cluster starts its reporters
    from there, never from ``pipeline.jars`` (docs/decisions/0007-prometheus-metrics.md)."""
    return sorted((jar_set(settings).lib / "reporter").glob("*.jar"))


def classpath(settings: Settings) -> str:
    """The project's jars, built when stale, plus PyFlink's ``flink-dist`` (Flink's classes,
    which the tools' serializer checks use, and SLF4J, which the scorer logs through)."""
    import pyflink

    dist = sorted((Path(pyflink.__file__).parent / "lib").glob("flink-dist-*.jar"))
    if not dist:
        raise StackError("the apache-flink wheel has no lib/flink-dist jar")
    return os.pathsep.join([*map(str, ensure_built(settings)), str(dist[0])])


def junit_totals(reports: Path) -> dict[str, Counter[str]]:
    """Per module, the tests, failures, errors and skipped of its surefire reports."""
    totals: dict[str, Counter[str]] = {}
    for report in sorted(reports.glob("*/surefire-reports/TEST-*.xml")):
        suite = ElementTree.parse(report).getroot()
        module = report.parents[1].name.removeprefix("fraudguard-")
        counts = totals.setdefault(module, Counter())
        for key in ("tests", "failures", "errors", "skipped"):
            counts[key] += int(suite.get(key, 0))
    return totals


def run_tests(settings: Settings) -> int:
    """``mvn test`` over every module; prints the totals, returns Maven's exit code."""
    reports = _home(settings) / "build" / "jvm"
    for stale in reports.glob("*/surefire-reports"):
        shutil.rmtree(stale)
    pom = str(jar_set(settings).pom)
    home = f"-Dfraudguard.home={_home(settings)}"
    command = [check_maven(), "-q", "-B", "-Dstyle.color=never", "-f", pom, home, "test"]
    code = subprocess.run(command).returncode
    totals = junit_totals(reports)
    overall = sum(totals.values(), Counter())
    modules = ", ".join(f"{name} {counts['tests']}" for name, counts in totals.items())
    click.echo(
        f"JUnit: {overall['tests']} tests ({modules}), {overall['failures']} failures, "
        f"{overall['errors']} errors, {overall['skipped']} skipped"
    )
    return code


@click.command()
@click.argument("action", type=click.Choice(["build", "test", "mark"]))
def main(action: str) -> None:
    """Build the project's Java when stale, run its JUnit tests, or mark jars built elsewhere
    as built from jvm/ as it is."""
    settings = Settings()
    if action == "test":
        sys.exit(run_tests(settings))
    if action == "mark":
        click.echo(f"marked as built from jvm/: {mark_built(settings)}")
        return
    ensure_built(settings)
    click.echo(f"jvm/ is built: {jar_set(settings).lib}")


if __name__ == "__main__":
    main()
