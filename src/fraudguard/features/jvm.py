"""The offline path on the JVM feature kernel (``io.fraudguard.features`` in ``stack/flink``).

The kernel is the JVM evaluation of the same declarations (:func:`feature_spec` hands them
over); it exists so the windows can move into Java operators, where the job can reach 10,000
transactions a second. Until the job runs it, :func:`build_features` in Python stays the
offline path, and a test holds the two to identical values on every transaction.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from fraudguard.config import Settings
from fraudguard.errors import StackError
from fraudguard.features.registry import FEATURES
from fraudguard.features.spec import write_feature_spec
from fraudguard.schema import Transaction
from fraudguard.stack.health import check_java

MAIN_CLASS = "io.fraudguard.features.BuildFeatures"


def kernel_classpath(settings: Settings) -> str:
    """The project's JVM classes plus Flink's own jar (the kernel reads JSON with its Jackson)."""
    import pyflink

    ext = settings.lib_dir / "flink" / "fraudguard-flink-ext.jar"
    if not ext.exists():
        raise StackError(f"no {ext}: run `fraudguard stack up`, which builds it with Maven")
    dist = sorted((Path(pyflink.__file__).parent / "lib").glob("flink-dist-*.jar"))
    if not dist:
        raise StackError("the apache-flink wheel has no lib/flink-dist jar")
    return f"{ext}:{dist[0]}"


def build_features_jvm(
    transactions: Iterable[Transaction], dedupe_ttl_ms: int, settings: Settings
) -> tuple[list[str], np.ndarray, dict[str, Any]]:
    """Transaction ids, features (one row each, registry order) and the kernel's timings.

    Rows come in processing order with retried ids left out, as from :func:`build_features`.
    """
    with tempfile.TemporaryDirectory(prefix="fraudguard-kernel-") as folder:
        work = Path(folder)
        spec = write_feature_spec(work / "spec.json")
        source = work / "transactions.jsonl"
        with source.open("w") as out:
            for txn in transactions:
                out.write(json.dumps(asdict(txn)) + "\n")
        command = [
            check_java(), "-Xss4m", "-cp", kernel_classpath(settings), MAIN_CLASS,
            str(spec), str(source), str(dedupe_ttl_ms), str(work / "features"),
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise StackError(f"the JVM feature kernel failed (exit {done.returncode}): "
                             f"{done.stderr.strip()[-2000:]}")  # fmt: skip
        ids = (work / "features.ids").read_text().splitlines()
        values = np.fromfile(work / "features.f64", dtype="<f8").reshape(len(ids), len(FEATURES))
        return ids, values, json.loads(done.stdout.strip().splitlines()[-1])
