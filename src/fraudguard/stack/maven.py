"""Jars resolved (and, for the Flink module, compiled) by Maven from the project's poms,
rebuilt only when a pom or a source file beside it changes.

Each pom's jars land in their own folder (``lib/kafka``, ``lib/flink``) with a marker holding
the hash of the pom and of every file under its ``src/``. Resolution goes to a staging folder
that replaces the old one whole, so a pom that drops or upgrades a dependency never leaves a
stale jar on the broker's classpath.
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
POMS = ("kafka", "flink")


class JarSet(NamedTuple):
    """The jars one pom resolves: ``lib`` receives what ``pom`` copies."""

    name: str
    pom: Path
    lib: Path


def jar_sets(settings: Settings, paths: StackPaths) -> list[JarSet]:
    root = settings.project_root
    return [JarSet(name, root / "stack" / name / "pom.xml", paths.lib / name) for name in POMS]


def pom_digest(pom: Path) -> str:
    """SHA-256 of the pom and of the sources Maven compiles beside it (``src/``)."""
    digest = hashlib.sha256()
    try:
        digest.update(pom.read_bytes())
        for source in sorted(path for path in (pom.parent / "src").rglob("*") if path.is_file()):
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
    command = [mvn, "-q", "-B", "-f", str(jars.pom), f"-Dfraudguard.lib={staging}", "package"]
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


def ensure_jars(settings: Settings, paths: StackPaths, mvn: str = "mvn") -> list[str]:
    """Resolve every pom whose jars are missing or stale; return the names resolved."""
    resolved = []
    for jars in jar_sets(settings, paths):
        if needs_resolve(jars):
            resolve(jars, mvn)
            resolved.append(jars.name)
    return resolved


def missing_jars(settings: Settings, paths: StackPaths) -> list[str]:
    """Names of the jar sets ``ensure_jars`` would resolve (so preflight knows Maven is needed)."""
    return [jars.name for jars in jar_sets(settings, paths) if needs_resolve(jars)]
