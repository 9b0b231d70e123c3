"""Cost of scoring with the base model, per row, by batch size (one thread, as in the job).

Scores rows of real features (generated history) with ``XGBoostScorer.predict_batch`` (libxgboost)
in batches of 1, 16, 64 and 256, then with the compiled trees (``scoring.compiled``): one row at
a time through the generated Python function, in numpy batches, and in the JVM one row at a
time as the job scores (``io.fraudguard.scoring.CompiledTrees``, through ``ScoreRows``, best
of 20 passes after the JIT's warm-up). Prints µs per row and per batch. The model is the registry's
champion, a model folder or file given with ``--model``, or (when there is no champion) a
model of the default size trained on the same generated history. Prints one JSON line last
and writes bench/results/scoring.json.

    .venv/bin/python bench/scoring.py
    .venv/bin/python bench/scoring.py --model .fraudguard/models/xgb-20261125163300-9cb748
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from fraudguard.config import Settings
from fraudguard.generator import GeneratorConfig
from fraudguard.models.booster import XGBoostScorer
from fraudguard.training import booster
from fraudguard.training.booster import BoosterParams
from fraudguard.training.history import generated_history

ROOT = Path(__file__).resolve().parents[1]
BATCH_SIZES = (1, 16, 64, 256)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def jvm_us_per_row(model: XGBoostScorer, trees: bytes, rows: list[list[float]]) -> float:
    """The job's scorer on ``rows``: the model registered and promoted in a scratch registry."""
    import tempfile

    import numpy as np

    from fraudguard.features.jvm import run_kernel_main
    from fraudguard.models.metadata import ModelMetadata
    from fraudguard.models.registry import TREES_FILE, ModelRegistry, serving_layout

    with tempfile.TemporaryDirectory(prefix="fraudguard-bench-") as folder:
        work = Path(folder)
        registry = ModelRegistry(work / "models")
        metadata = ModelMetadata(
            version="bench", created_at="2026-01-01T00:00:00Z", framework="xgboost",
            feature_set_version="bench", feature_names=list(model.feature_names),
            scale_pos_weight=1.0, code_version=git_commit(),
        )  # fmt: skip
        registry.register(b"", metadata, attach=lambda d: (d / TREES_FILE).write_bytes(trees))
        registry.promote("bench", feature_set_version="bench")
        (work / "names.json").write_text(json.dumps(list(model.feature_names)))
        np.asarray(rows, dtype="<f8").tofile(work / "rows.f64")
        args = [str(work / "models"), json.dumps(serving_layout()), str(work / "names.json"),
                str(work / "rows.f64"), str(work / "scores.f64"), "20"]  # fmt: skip
        got = run_kernel_main(Settings(), "io.fraudguard.scoring.ScoreRows", args)
        expected = np.asarray(model.predict_batch(rows[:2000]))
        scores = np.fromfile(work / "scores.f64", dtype="<f8")[:2000]
        assert np.abs(scores - expected).max() < 1e-6, "the JVM scores differ from the model's"
        return float(got["us_per_row"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="model folder or file [default: champion]")
    parser.add_argument("--rows", type=int, default=20_000, help="rows scored per batch size")
    parser.add_argument("--repeats", type=int, default=5, help="timed passes per batch size")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()

    log("generating history (2,000 cards, 14 days) ...")
    history = generated_history(GeneratorConfig(seed=7, cards=2000, days=14, fraud_rate=0.005))
    source = "argument"
    if args.model is None:
        from fraudguard.models import ModelRegistry

        champion = ModelRegistry.from_settings(Settings.from_env(os.environ)).champion()
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

    results = {}
    for size in BATCH_SIZES:
        batches = [rows[i : i + size] for i in range(0, len(rows) - size + 1, size)]
        model.predict_batch(batches[0])  # warm-up
        passes = []
        for _ in range(args.repeats):
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
        print(
            f"batch {size:>4}: {per_row:8.2f} µs/row  {per_row * size:9.1f} µs/batch  "
            f"{1e6 / per_row:>10,.0f} rows/s"
        )

    from fraudguard.models.trees import CompiledTrees, compile_booster

    compiled = CompiledTrees.from_json(compile_booster(model.booster))
    compiled.predict_one(rows[0])  # compiles the function
    one = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        for row in rows:
            compiled.predict_one(row)
        one.append((time.perf_counter() - started) / len(rows))
    numpy_batch = {}
    for size in BATCH_SIZES:
        batches = [rows[i : i + size] for i in range(0, len(rows) - size + 1, size)][:200]
        started = time.perf_counter()
        for batch in batches:
            compiled.predict(batch)
        per_row_s = (time.perf_counter() - started) / (len(batches) * size)
        numpy_batch[str(size)] = round(per_row_s * 1e6, 2)
    jvm = jvm_us_per_row(model, compile_booster(model.booster), rows)
    compiled_results = {"predict_one_us_per_row": round(min(one) * 1e6, 2),
                        "numpy_us_per_row_by_batch": numpy_batch,
                        "jvm_us_per_row": round(jvm, 3)}  # fmt: skip
    print(f"compiled trees, one row in Python: {min(one) * 1e6:.2f} µs/row; "
          f"numpy batches: {numpy_batch} µs/row; "
          f"in the JVM (the job): {jvm:.3f} µs/row")  # fmt: skip

    record = {
        "bench": "scoring",
        "compiled": compiled_results,
        "model_version": model.version,
        "model_source": source,
        "trees": model.booster.num_boosted_rounds(),
        "features": len(model.feature_names),
        "threads": 1,
        "batches": results,
        "rows_per_pass": len(rows),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "git_commit": git_commit(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scoring.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record))


if __name__ == "__main__":
    main()
