"""Offline backtest throughput and memory on a generated history (issue 18: >= 50,000 tx/s).

Generates a history with the generator to a temporary JSONL file (not timed), then runs the
backtest over it as ``fraudguard backtest`` does: features in the JVM kernel, scores by the
registry's champion (or ``--model``) in the JVM, tiers and exploration in Python, decisions
to Parquet. Peak memory is the larger of this process's and the JVM's resident peaks
(``getrusage`` of self and children), with the JVM's heap peak beside it.

Writes bench/results/backtest.json.
Usage: python bench/backtest.py [--transactions N] [--model VERSION]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

from bench_results import log, run_metadata, write_result
from fraudguard.backtest import run_backtest
from fraudguard.backtest.engine import RULES, resolve_model
from fraudguard.config import Settings
from fraudguard.generator import GeneratorConfig, PaymentStream
from fraudguard.generator.sinks import write_files


def peak_rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports kilobytes


def cpu_s(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--model", default="champion", help="registry version [champion]")
    args = parser.parse_args(argv)
    metadata = run_metadata()
    settings = Settings.from_env(os.environ)
    version = resolve_model(settings, args.model)
    if version == RULES:
        raise SystemExit("no champion model to score with: promote one (fraudguard model "
                         "promote) or pass --model VERSION")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="fraudguard-bench-backtest-") as folder:
        source = Path(folder) / "transactions.jsonl"
        config = GeneratorConfig(seed=7, cards=20_000, merchants=2_000, days=60, fraud_rate=0.005)
        log(f"generating {args.transactions:,} transactions ...")
        generated = write_files(PaymentStream(config), source, limit=args.transactions)
        log(f"{generated.transactions:,} transactions in {generated.elapsed_s:.0f}s "
            f"({source.stat().st_size / 1e6:.0f} MB); backtesting with {version} ...")  # fmt: skip
        rss_before = peak_rss_mb(resource.RUSAGE_SELF)
        cpu_before = cpu_s(resource.RUSAGE_SELF)
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        summary = run_backtest(source, Path(folder) / "out", settings, model=version)
        wall_s = time.perf_counter() - started
        python_cpu_s = cpu_s(resource.RUSAGE_SELF) - cpu_before
        load_after = os.getloadavg()[0]
        decisions_mb = (Path(folder) / "out" / "decisions.parquet").stat().st_size / 1e6
    python_mb, jvm_mb = peak_rss_mb(resource.RUSAGE_SELF), peak_rss_mb(resource.RUSAGE_CHILDREN)
    jvm = summary["jvm"]
    per_txn = 1e6 / max(summary["transactions"], 1)
    measured = {
        "transactions": summary["transactions"],
        "throughput_tps": round(summary["transactions"] / wall_s),
        "wall_s": round(wall_s, 1),
        "jvm_s": jvm["jvm_s"],
        # The JVM's steps (wall time of its two threads) and the CPU each process used, per
        # transaction: what the throughput is made of when other work shares the cores.
        "jvm_us_per_txn": {
            k: round(jvm[f"{k}_s"] * per_txn, 2) for k in ("parse", "features", "score", "write")
        },
        "jvm_cpu_us_per_txn": round(cpu_s(resource.RUSAGE_CHILDREN) * per_txn, 2),
        "python_cpu_us_per_txn": round(python_cpu_s * per_txn, 2),
        "load_average_1m": [round(load_before, 2), round(load_after, 2)],
        "peak_rss_mb": round(max(python_mb, jvm_mb), 1),
        "python_peak_rss_mb": round(python_mb, 1),
        "python_peak_rss_before_backtest_mb": round(rss_before, 1),
        "jvm_peak_rss_mb": round(jvm_mb, 1),
        "jvm_peak_heap_mb": jvm["jvm_peak_heap_mb"],
        "model_version": version,
        "decisions": summary["baseline"]["decisions"],
        "explored": summary["baseline"]["explored"],
        "decisions_parquet_mb": round(decisions_mb, 1),
    }
    write_result("backtest", metadata, measured)


if __name__ == "__main__":
    main()
