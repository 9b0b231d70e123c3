"""Cost of scoring with the base model, per row: libxgboost by batch size, and the JVM scorer.

Scores rows of real features (generated history) with ``XGBoostScorer.predict_batch``
(libxgboost, one thread as in the job) in batches of 1, 16, 64 and 256, then in the JVM one row
at a time as the job scores (``io.fraudguard.scoring.CompiledTrees`` through
``io.fraudguard.tools.ScoreRows``, best of 20 passes after the JIT's warm-up, its scores checked
against libxgboost's). The model is the registry's champion, a model folder or file given with
``--model``, or (when there is no champion) a model of the default size trained on the same
generated history. Writes bench/results/scoring.json.

    .venv/bin/python bench/scoring.py
    .venv/bin/python bench/scoring.py --model .fraudguard/models/xgb-20261125163300-9cb748
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench_results import RESULTS_DIR, log, run_metadata, write_result
from fraudguard.config import Settings
from fraudguard.features.jvm import run_kernel_main
from fraudguard.generator import GeneratorConfig
from fraudguard.models.booster import XGBoostScorer
from fraudguard.models.metadata import ModelMetadata
from fraudguard.models.registry import TREES_FILE, ModelRegistry, serving_layout
from fraudguard.models.trees import compile_booster
from fraudguard.training import booster
from fraudguard.training.booster import BoosterParams
from fraudguard.training.history import generated_history

BATCH_SIZES = (1, 16, 64, 256)
JVM_PASSES = 20
CHECKED_ROWS = 2000
"""Rows whose JVM scores are compared with libxgboost's."""


def libxgboost_by_batch(
    model: XGBoostScorer, rows: list[list[float]], repeats: int
) -> dict[str, dict[str, float]]:
    """Per batch size: the best and median time a row over ``repeats`` passes over ``rows``."""
    results = {}
    for size in BATCH_SIZES:
        batches = [rows[i : i + size] for i in range(0, len(rows) - size + 1, size)]
        model.predict_batch(batches[0])  # warm-up
        passes = []
        for _ in range(repeats):
            started = time.perf_counter()
            for batch in batches:
                model.predict_batch(batch)
            passes.append((time.perf_counter() - started) / (len(batches) * size))
        per_row = min(passes) * 1e6
        results[str(size)] = {
            "us_per_row": round(per_row, 2),
            "us_per_batch": round(per_row * size, 1),
            "us_per_row_median": round(statistics.median(passes) * 1e6, 2),
            "rows_per_second": round(1e6 / per_row),
        }
        log(
            f"libxgboost, batch {size:>4}: {per_row:8.2f} µs/row  {per_row * size:9.1f} µs/batch  "
            f"{1e6 / per_row:>10,.0f} rows/s"
        )
    return results


def jvm_us_per_row(settings: Settings, model: XGBoostScorer, rows: list[list[float]]) -> float:
    """The job's scorer on ``rows``: the model registered and promoted in a scratch registry."""
    with tempfile.TemporaryDirectory(prefix="fraudguard-bench-") as folder:
        work = Path(folder)
        registry = ModelRegistry(work / "models")
        metadata = ModelMetadata(
            version="bench", created_at="2026-01-01T00:00:00Z", framework="xgboost",
            feature_set_version="bench", feature_names=list(model.feature_names),
            scale_pos_weight=1.0, code_version="bench",
        )  # fmt: skip
        trees = compile_booster(model.booster)
        registry.register(b"", metadata, attach=lambda d: (d / TREES_FILE).write_bytes(trees))
        registry.promote("bench", feature_set_version="bench")
        (work / "names.json").write_text(json.dumps(list(model.feature_names)))
        np.asarray(rows, dtype="<f8").tofile(work / "rows.f64")
        args = [str(work / "models"), json.dumps(serving_layout()), str(work / "names.json"),
                str(work / "rows.f64"), str(work / "scores.f64"), str(JVM_PASSES)]  # fmt: skip
        got = run_kernel_main(settings, "io.fraudguard.tools.ScoreRows", args)
        expected = np.asarray(model.predict_batch(rows[:CHECKED_ROWS]))
        scores = np.fromfile(work / "scores.f64", dtype="<f8")[:CHECKED_ROWS]
        assert np.abs(scores - expected).max() < 1e-6, "the JVM scores differ from the model's"
    per_row = float(got["us_per_row"])
    log(f"JVM scorer (the job's), one row at a time: {per_row:.3f} µs/row")
    return per_row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="model folder or file [default: champion]")
    parser.add_argument("--rows", type=int, default=20_000, help="rows scored per batch size")
    parser.add_argument("--repeats", type=int, default=5, help="timed passes per batch size")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    metadata = run_metadata()
    settings = Settings.from_env(os.environ)

    log("generating history (2,000 cards, 14 days) ...")
    history = generated_history(GeneratorConfig(seed=7, cards=2000, days=14, fraud_rate=0.005))
    source = "argument"
    if args.model is None:
        champion = ModelRegistry.from_settings(settings).champion()
        if champion is not None:
            args.model, source = champion.path, "champion"
    if args.model is not None:
        model = XGBoostScorer.load(args.model)
    else:
        log("no champion: training a model of the default size (150 rounds, depth 6) ...")
        params = BoosterParams()
        full = booster.fit(booster.matrix(history.X, history.y, params), params, 10.0)
        model, source = XGBoostScorer(full, "bench-default-size", history.feature_names), "trained"
    rows = history.X[: args.rows].astype(float).tolist()
    log(
        f"model {model.version} ({source}): {model.booster.num_boosted_rounds()} trees; "
        f"{len(rows):,} rows per pass, best of {args.repeats} passes"
    )
    measured: dict[str, Any] = {
        "model_version": model.version,
        "model_source": source,
        "trees": model.booster.num_boosted_rounds(),
        "features": len(model.feature_names),
        "threads": 1,
        "rows_per_pass": len(rows),
        "batches": libxgboost_by_batch(model, rows, args.repeats),
        "jvm_us_per_row": round(jvm_us_per_row(settings, model, rows), 3),
    }
    write_result("scoring", metadata, measured, args.out)


if __name__ == "__main__":
    main()
