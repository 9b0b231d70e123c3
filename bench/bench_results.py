"""What every benchmark in ``bench/`` shares: its progress log and its result file.

A benchmark logs progress to stderr with :func:`log`, takes :func:`run_metadata` when it starts
and ends with :func:`write_result`, which writes ``bench/results/<name>.json`` (git-ignored) and
prints the same JSON object as the last stdout line.

>>> import tempfile
>>> metadata = run_metadata()
>>> sorted(metadata)
['cpu_count', 'date', 'git_commit', 'git_dirty', 'python']
>>> with tempfile.TemporaryDirectory() as folder:  # doctest: +ELLIPSIS
...     path = write_result("example", metadata, {"rows": 3}, Path(folder))
...     written = orjson.loads(path.read_bytes())
{"date":...,"python":...,"rows":3}
>>> path.name, written["rows"], written["cpu_count"] == os.cpu_count()
('example.json', 3, True)
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"

_STARTED = time.monotonic()


def log(message: str) -> None:
    """``message`` on stderr, after the seconds since the benchmark started."""
    print(f"[{time.monotonic() - _STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


def git_commit(root: Path = BENCH_DIR.parent) -> tuple[str, bool | None]:
    """The short commit checked out at ``root`` and whether tracked files differ from it
    (``"unknown"`` and ``None`` outside a git checkout)."""
    try:
        head, status = (
            subprocess.run(
                ["git", *args], cwd=root, capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            for args in (["rev-parse", "--short", "HEAD"], ["status", "--porcelain", "-uno"])
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown", None
    return head or "unknown", bool(status)


def run_metadata() -> dict[str, Any]:
    """What a result needs to be compared with another: when (UTC, the run's start), which
    commit, how many cores, which Python."""
    commit, dirty = git_commit()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "git_commit": commit,
        "git_dirty": dirty,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }


def write_result(
    name: str, metadata: Mapping[str, Any], measured: Mapping[str, Any], out_dir: Path = RESULTS_DIR
) -> Path:
    """Writes ``metadata`` then ``measured`` as one JSON object to ``out_dir/<name>.json``,
    prints it as one line on stdout, and returns the file's path."""
    result = {**metadata, **measured}
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.json"
    options = orjson.OPT_SERIALIZE_NUMPY
    path.write_bytes(orjson.dumps(result, option=options | orjson.OPT_INDENT_2) + b"\n")
    log(f"results: {path}")
    print(orjson.dumps(result, option=options).decode(), flush=True)
    return path
