"""Offline backtest throughput and memory on a generated history (issue 18: >= 50,000 tx/s).

Generates a history with the generator to a temporary JSONL file (not timed), then runs the
backtest over it as ``fraudguard backtest`` does: features in the JVM kernel, scores by the
registry's champion (or ``--model``) in the JVM, tiers and exploration in Python, decisions
to Parquet; then the report from the decisions (timed apart, ``report_s``). Peak memory is
the larger of this process's and the JVM's resident peaks (``getrusage`` of self and
children), with the JVM's heap peak beside it.

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
from fraudguard.decision import BUILTIN_TIERS
from fraudguard.generator import GeneratorConfig, PaymentStream
from fraudguard.generator.sinks import default_labels_path, write_files
from fraudguard.reports import ReportSettings, build_report, write_report


def peak_rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports kilobytes


def cpu_s(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def trained_registry(folder: Path, settings: Settings) -> tuple[Settings, str]:
    """Settings with a registry of one promoted model of the default size (150 rounds, depth
    6), trained on a small generated history, for a machine with no champion."""
    from fraudguard.features.registry import FEATURE_SET_VERSION
    from fraudguard.models.metadata import ModelMetadata
    from fraudguard.models.registry import TREES_FILE, ModelRegistry
    from fraudguard.models.trees import compile_booster
    from fraudguard.training import booster
    from fraudguard.training.booster import BoosterParams
    from fraudguard.training.history import generated_history

    history = generated_history(GeneratorConfig(seed=7, cards=2000, days=14, fraud_rate=0.005))
    params = BoosterParams()
    trained = booster.fit(booster.matrix(history.X, history.y, params), params, 10.0)
    settings = settings.model_copy(update={"models_root": folder / "models"})
    registry, version = ModelRegistry.from_settings(settings), "bench-default-size"
    metadata = ModelMetadata(
        version=version, created_at="2026-12-04T00:00:00Z", framework="xgboost",
        feature_set_version=FEATURE_SET_VERSION, feature_names=list(history.feature_names),
        scale_pos_weight=10.0, code_version="bench",
    )  # fmt: skip
    trees = compile_booster(trained)
    registry.register(b"", metadata, attach=lambda d: (d / TREES_FILE).write_bytes(trees))
    registry.promote(version)
    return settings, version


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--model", default="champion", help="registry version [champion]")
    args = parser.parse_args(argv)
    metadata = run_metadata()
    settings = Settings.from_env(os.environ)
    with tempfile.TemporaryDirectory(prefix="fraudguard-bench-backtest-") as folder:
        version = resolve_model(settings, args.model)
        if version == RULES:
            log("no champion: training a model of the default size ...")
            settings, version = trained_registry(Path(folder), settings)
        source = Path(folder) / "transactions.jsonl"
        config = GeneratorConfig(seed=7, cards=20_000, merchants=2_000, days=60, fraud_rate=0.005)
        log(f"generating {args.transactions:,} transactions ...")
        generated = write_files(PaymentStream(config), source, limit=args.transactions)
        log(f"{generated.transactions:,} transactions in {generated.elapsed_s:.0f}s "
            f"({source.stat().st_size / 1e6:.0f} MB); backtesting with {version} ...")  # fmt: skip
        rss_before = peak_rss_mb(resource.RUSAGE_SELF)
        cpu_before = cpu_s(resource.RUSAGE_SELF)
        jvm_cpu_before = cpu_s(resource.RUSAGE_CHILDREN)  # a model's training ran the kernel
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        summary = run_backtest(source, Path(folder) / "out", settings, model=version,
                               labels=default_labels_path(source))  # fmt: skip
        wall_s = time.perf_counter() - started
        python_cpu_s = cpu_s(resource.RUSAGE_SELF) - cpu_before
        load_after = os.getloadavg()[0]
        decisions_mb = (Path(folder) / "out" / "decisions.parquet").stat().st_size / 1e6
        # The report a modeler reads, from the decisions file, as `fraudguard backtest` writes
        # it (timed apart: the goal is the decisions' rate).
        started = time.perf_counter()
        numbers = build_report(
            Path(folder) / "out" / "decisions.parquet",
            ReportSettings(labels_known_at_ms=summary["labels_known_at_ms"]),
            BUILTIN_TIERS, {"model_version": version},
        )  # fmt: skip
        written = write_report(numbers, Path(folder) / "out" / "report", "bench")
        report_s = time.perf_counter() - started
        report_files = sorted(p.name for p in written["md"].parent.iterdir())
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
        "jvm_cpu_us_per_txn": round(
            (cpu_s(resource.RUSAGE_CHILDREN) - jvm_cpu_before) * per_txn, 2
        ),
        "python_cpu_us_per_txn": round(python_cpu_s * per_txn, 2),
        "load_average_1m": [round(load_before, 2), round(load_after, 2)],
        "peak_rss_mb": round(max(python_mb, jvm_mb), 1),
        "python_peak_rss_mb": round(python_mb, 1),
        "python_peak_rss_before_backtest_mb": round(rss_before, 1),
        "jvm_peak_rss_mb": round(jvm_mb, 1),
        "jvm_peak_heap_mb": jvm["jvm_peak_heap_mb"],
        # After a full collection at the end: the entities' states, which the file's length
        # reaches only through the entities and the windows' spans.
        "jvm_live_heap_mb": jvm["jvm_live_heap_mb"],
        "entities": {k: jvm[k] for k in ("cards", "merchants", "devices")},
        "model_version": version,
        "decisions": summary["baseline"]["decisions"],
        "explored": summary["baseline"]["explored"],
        "decisions_parquet_mb": round(decisions_mb, 1),
        "report_s": round(report_s, 1),
        "report_files": report_files,
    }
    write_result("backtest", metadata, measured)


if __name__ == "__main__":
    main()
