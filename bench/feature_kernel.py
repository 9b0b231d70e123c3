"""The feature work per transaction in the feature kernel (JVM), outside Flink.

Evaluates every declaration of the registry on generated transactions through the offline path
(sorted, states in maps): the kernel's own loop, JIT warm-up included, apart from reading the
file. On 2026-11-26 the Python engine the kernel replaced took 121.5 us a transaction on the
same input; the kernel took 14.7.

Writes bench/results/feature_kernel.json.
Usage: python bench/feature_kernel.py [--transactions N]
"""

from __future__ import annotations

import argparse
import os
import time

from bench_results import log, run_metadata, write_result
from fraudguard.config import Settings
from fraudguard.features import FEATURE_NAMES
from fraudguard.features.jvm import run_kernel
from fraudguard.generator import GeneratorConfig, PaymentStream


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=200_000)
    args = parser.parse_args(argv)
    metadata = run_metadata()
    settings = Settings.from_env(os.environ)
    config = GeneratorConfig(seed=7, cards=10_000, merchants=2_000, days=30)
    txns = []
    for txn in PaymentStream(config).transactions():
        txns.append(txn)
        if len(txns) == args.transactions:
            break
    log(f"{len(txns):,} transactions generated; running the kernel")
    started = time.perf_counter()
    rows, _, jvm = run_kernel(txns, settings.flink.dedupe_ttl_ms, settings)
    wall_s = time.perf_counter() - started
    assert len(rows) == jvm["rows"] == len(txns)
    measured = {
        "transactions": len(txns),
        "features": len(FEATURE_NAMES),
        "jvm_us_per_txn": round(jvm["evaluate_s"] / len(txns) * 1e6, 1),
        "jvm_parse_us_per_txn": round(jvm["parse_s"] / len(txns) * 1e6, 1),
        "offline_path_s": round(wall_s, 1),
    }
    write_result("feature_kernel", metadata, measured)


if __name__ == "__main__":
    main()
