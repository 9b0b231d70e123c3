"""Runs the JVM feature kernel (``io.fraudguard.features`` in ``jvm/kernel``) over a file.

The kernel is the one evaluation of the registry's declarations: the job runs it in keyed Flink
operators, and the offline path (:func:`~fraudguard.features.offline.build_features`) runs it
here, in a loop with the states in maps (``BuildFeatures``). :func:`feature_spec` hands it the
declarations.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from fraudguard.config import Settings
from fraudguard.errors import StackError
from fraudguard.features.labels import FraudLabel
from fraudguard.features.registry import FEATURES
from fraudguard.features.spec import write_feature_spec
from fraudguard.jvm import classpath
from fraudguard.stack.health import check_java
from fraudguard.wire.transactions import Transaction

MAIN_CLASS = "io.fraudguard.features.BuildFeatures"


def write_transactions(path: Path, transactions: Iterable[Transaction]) -> Path:
    """The kernel's input: one validated transaction a line, as JSON (``ts_ms`` included)."""
    with path.open("wb") as out:
        # orjson writes a Transaction's fields natively, several times faster than asdict
        for txn in transactions:
            out.write(orjson.dumps(txn) + b"\n")
    return path


def write_fraud_labels(path: Path, labels: Iterable[FraudLabel]) -> Path:
    """The kernel's labels: one fraud label a line, as JSON (``reported_ms`` included)."""
    with path.open("wb") as out:
        for label in labels:
            out.write(orjson.dumps(label) + b"\n")
    return path


def run_kernel_main(
    settings: Settings, main_class: str, args: Sequence[str], jvm_options: Sequence[str] = ()
) -> dict[str, Any]:
    """Runs one of the project's JVM entry points (``BuildFeatures``, or a tool of
    ``io.fraudguard.tools``) with the project's jars, built when stale; the JSON object it
    prints last."""
    command = [check_java(), *jvm_options, "-cp", classpath(settings), main_class, *args]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise StackError(f"{main_class} failed (exit {done.returncode}): "
                         f"{done.stderr.strip()[-2000:]}")  # fmt: skip
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run_kernel(
    transactions: Sequence[Transaction],
    dedupe_ttl_ms: int,
    settings: Settings,
    arrival_order: bool = False,
    labels: Sequence[FraudLabel] = (),
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Per answered transaction: its position in ``transactions`` and its features (a row in
    registry order); and the kernel's timings.

    Rows come in processing order, ``(ts_ms, txn_id)``, or with ``arrival_order`` in the order
    given (as the job meets a stream); a retried id within the TTL is answered once. ``labels``
    are applied among the payments in processing order, so they need it.
    """
    if labels and arrival_order:
        raise ValueError("labels are applied in processing order, not in arrival order")
    with tempfile.TemporaryDirectory(prefix="fraudguard-kernel-") as folder:
        work = Path(folder)
        spec = write_feature_spec(work / "spec.json")
        source = write_transactions(work / "transactions.jsonl", transactions)
        args = [str(spec), str(source), str(dedupe_ttl_ms), str(work / "features")]
        if arrival_order:
            args.append("arrival")
        elif labels:
            args.append(str(write_fraud_labels(work / "labels.jsonl", labels)))
        timings = run_kernel_main(settings, MAIN_CLASS, args)
        rows = np.fromfile(work / "features.rows", dtype="<i4")
        values = np.fromfile(work / "features.f64", dtype="<f8").reshape(len(rows), len(FEATURES))
        return rows, values, timings
