"""Where a model comes from: its version name and the code that trained it.

>>> model_version(b"model bytes", datetime(2026, 11, 25, 16, 33, 0, tzinfo=UTC))
'xgb-20261125163300-9cb748'
"""

from __future__ import annotations

import hashlib
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path


def model_version(model: bytes, created: datetime, kind: str = "xgb") -> str:
    """``<kind>-<UTC yyyymmddHHMMSS>-<first 6 hex of the model's SHA-256>``: sortable by time,
    and two different models trained in the same second still differ."""
    stamp = created.astimezone(UTC).strftime("%Y%m%d%H%M%S")
    return f"{kind}-{stamp}-{hashlib.sha256(model).hexdigest()[:6]}"


def code_version(project_root: Path) -> str:
    """The git commit (``+dirty`` with uncommitted changes to tracked files), else the installed
    package version: a model trained from an unreviewed working tree says so."""
    try:
        commit = _git(project_root, "rev-parse", "--short", "HEAD")
        dirty = _git(project_root, "status", "--porcelain", "--untracked-files=no")
        return commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        try:
            return f"fraudguard {metadata.version('fraudguard')}"
        except metadata.PackageNotFoundError:
            return "unknown"


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10, check=True
    )
    return done.stdout.strip()
