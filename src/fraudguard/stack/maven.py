"""Jars resolved (and, for the project's Java, compiled) by Maven from a pom, again only when
the pom or a file beside it changes: the Kafka broker's (``deploy/kafka``, at ``stack up``) and
the project's own (``jvm/``, see :mod:`fraudguard.jvm`).

Each pom's jars land in their own folder (``lib/kafka``, ``lib/flink``) with a marker holding
the hash of every file in the pom's folder. Resolution goes to a staging folder that replaces
the old one whole, so a pom that drops or upgrades a dependency never leaves a stale jar on a
classpath.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from fraudguard.config import Settings
from fraudguard.errors import StackError
from fraudguard.stack.layout import StackPaths

log = logging.getLogger(__name__)

MARKER = ".pom.sha256"


class JarSet(NamedTuple):
    """The jars one pom resolves: ``lib`` receives what ``pom`` copies; ``options`` are more
    arguments for Maven."""

    name: str
    pom: Path
    lib: Path
    options: tuple[str, ...] = ()


def broker_jars(settings: Settings, paths: StackPaths) -> JarSet:
    """The Kafka broker and its runtime classpath, which ``stack up`` starts."""
    pom = settings.project_root / "deploy" / "kafka" / "pom.xml"
    return JarSet("kafka", pom, paths.lib / "kafka")


def pom_digest(pom: Path) -> str:
    """SHA-256 of every file in the pom's folder: the pom, module poms and their sources."""
    digest = hashlib.sha256()
    try:
        for source in sorted(path for path in pom.parent.rglob("*") if path.is_file()):
            digest.update(source.relative_to(pom.parent).as_posix().encode() + b"\0")
            digest.update(source.read_bytes())
    except OSError as exc:
        raise StackError(f"cannot read {pom} or its sources: {exc}") from exc
    return digest.hexdigest()


def needs_resolve(jars: JarSet) -> bool:
    """True unless the folder holds jars resolved from the pom as it is now."""
    try:
        recorded = (jars.lib / MARKER).read_text().strip()
    except OSError:
        return True
    return recorded != pom_digest(jars.pom) or not any(jars.lib.glob("*.jar"))


def resolve(
    jars: JarSet,
    mvn: str = "mvn",
    run: Callable[..., subprocess.CompletedProcess[Any]] = subprocess.run,
    timeout_s: float = 1800,
) -> None:
    """Run ``mvn package`` for one pom into a staging folder, then swap it in."""
    digest = pom_digest(jars.pom)
    staging = jars.lib.with_name(f".{jars.name}.staging")
    retired = jars.lib.with_name(f".{jars.name}.old")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    command = [mvn, "-q", "-B", "-f", str(jars.pom), f"-Dfraudguard.lib={staging}", *jars.options]
    command.append("package")
    log.info("resolving %s jars with Maven (%s)", jars.name, jars.pom)
    try:
        done = run(command, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise StackError(f"Maven took over {timeout_s:.0f} s to resolve {jars.pom}") from exc
    except OSError as exc:
        raise StackError(f"cannot run Maven ({mvn}): {exc}") from exc
    if done.returncode != 0:
        output = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        raise StackError(
            f"Maven could not resolve the {jars.name} jars from {jars.pom} "
            f"(exit {done.returncode}):\n{output}"
        )
    if not any(staging.glob("*.jar")):
        raise StackError(f"Maven finished but copied no jar from {jars.pom} into {staging}")
    (staging / MARKER).write_text(digest + "\n")
    shutil.rmtree(retired, ignore_errors=True)
    if jars.lib.exists():
        # A running broker keeps its open jars: the old files disappear only from the folder.
        jars.lib.rename(retired)
    staging.rename(jars.lib)
    shutil.rmtree(retired, ignore_errors=True)
