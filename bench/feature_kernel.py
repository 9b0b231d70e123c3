"""The feature work per transaction, Python engine against the JVM kernel, outside Flink.

Both evaluate every declaration of the registry on the same generated transactions (offline
path: sorted, states in maps). The JVM figure is the kernel's own loop, JIT warm-up included,
without reading the file; the Python figure is ``build_features``. The values are the same
(tests/features/test_jvm_kernel.py holds them bit for bit); this measures the cost that moving
the windows into Java operators would take off the job's Python side.

Prints one JSON line and writes bench/results/feature_kernel.json.
Usage: python bench/feature_kernel.py [--transactions N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from fraudguard.config import Settings
from fraudguard.features import FEATURE_NAMES, build_features
from fraudguard.features.jvm import build_features_jvm
from fraudguard.generator import GeneratorConfig, PaymentStream
from fraudguard.stack import maven
from fraudguard.stack.health import check_maven
from fraudguard.stack.layout import StackPaths

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=200_000)
    args = parser.parse_args(argv)
    settings = Settings.from_env(os.environ)
    maven.ensure_jars(settings, StackPaths.from_settings(settings), check_maven())
    config = GeneratorConfig(seed=7, cards=10_000, merchants=2_000, days=30)
    txns = []
    for txn in PaymentStream(config).transactions():
        txns.append(txn)
        if len(txns) == args.transactions:
            break
    started = time.perf_counter()
    rows = sum(1 for _ in build_features(txns, dedupe_ttl_ms=settings.flink.dedupe_ttl_ms))
    python_s = time.perf_counter() - started
    _, _, jvm = build_features_jvm(txns, settings.flink.dedupe_ttl_ms, settings)
    assert rows == jvm["rows"] == len(txns)
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "transactions": len(txns),
        "features": len(FEATURE_NAMES),
        "python_us_per_txn": round(python_s / len(txns) * 1e6, 1),
        "jvm_us_per_txn": round(jvm["evaluate_s"] / len(txns) * 1e6, 1),
        "jvm_parse_us_per_txn": round(jvm["parse_s"] / len(txns) * 1e6, 1),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "feature_kernel.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
