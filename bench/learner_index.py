"""How long the re-ranker learner takes to rebuild its decision index at start, and to re-score
it with a new champion, and how much memory that takes.

A restarted learner reads the whole ``decisions`` topic into
:class:`~fraudguard.reranker.decision_index.DecisionIndex` and re-scores the decisions an
earlier model made. This times those two steps on generated decision records shaped like the
job's (all 58 features, as JSON), outside Kafka: reading the topic adds the consumer's own time.
The model is a 146-tree XGBoost of depth 6 trained here on random data, the size of the bench
champion.

Writes bench/results/learner_index.json.
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import orjson

from bench_results import log, run_metadata, write_result
from fraudguard.features import FEATURE_NAMES
from fraudguard.models.booster import XGBoostScorer
from fraudguard.reranker.decision_index import DecisionIndex
from fraudguard.reranker.model import DEFAULT_FEATURES


def rss_mb() -> float:
    """Resident memory now (not the peak)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def champion_sized_model() -> XGBoostScorer:
    import xgboost as xgb

    rng = np.random.default_rng(0)
    x = rng.normal(size=(20_000, len(FEATURE_NAMES))).astype(np.float32)
    y = (x[:, 0] + rng.normal(size=len(x)) > 2).astype(int)
    booster = xgb.train(
        {"nthread": 2, "objective": "binary:logistic", "max_depth": 6},
        xgb.DMatrix(x, label=y, feature_names=list(FEATURE_NAMES)),
        146,
    )
    return XGBoostScorer(booster, "bench-new", FEATURE_NAMES)


def records(n: int, chunk: int = 10_000) -> Iterator[bytes]:
    """``n`` decision records as the job writes them (JSON bytes), made in chunks."""
    rng = np.random.default_rng(1)
    for start in range(0, n, chunk):
        values = rng.normal(size=(min(chunk, n - start), len(FEATURE_NAMES))).round(4)
        for i, row in enumerate(values.tolist(), start):
            yield orjson.dumps({
                "txn_id": f"t{i:09d}", "base_score": 0.01, "degraded": False,
                "model_version": "bench-old", "decided_at_ms": 1_790_000_000_000 + i,
                "features": dict(zip(FEATURE_NAMES, row, strict=True)),
            })  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=1_000_000)
    parser.add_argument("--rescore-capacity", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    metadata = run_metadata()
    model = champion_sized_model()
    before = rss_mb()
    index = DecisionIndex(DEFAULT_FEATURES, args.decisions, args.rescore_capacity)
    parse_s = add_s = 0.0
    for n, value in enumerate(records(args.decisions), 1):
        t0 = time.perf_counter()
        record = orjson.loads(value)
        t1 = time.perf_counter()
        index.add(record)
        add_s += time.perf_counter() - t1
        parse_s += t1 - t0
        if n % 500_000 == 0:
            log(f"indexed {n:,}")
    indexed_rss = rss_mb()
    started = time.perf_counter()
    rescored = index.rescore(model)
    rescore_s = time.perf_counter() - started
    n = args.decisions
    result = {
        "decisions": n,
        "rescore_capacity": args.rescore_capacity,
        "json_parse_us_per_decision": round(1e6 * parse_s / n, 2),
        "index_add_us_per_decision": round(1e6 * add_s / n, 2),
        "index_s": round(parse_s + add_s, 1),
        "rescored": rescored,
        "rescore_s": round(rescore_s, 1),
        "rescore_us_per_decision": round(1e6 * rescore_s / rescored, 2) if rescored else None,
        "index_rss_mb": round(indexed_rss - before, 0),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0),
    }
    log(
        f"{n:,} decisions: parse {result['json_parse_us_per_decision']} µs + index "
        f"{result['index_add_us_per_decision']} µs each ({result['index_s']} s); re-scored "
        f"{rescored:,} in {result['rescore_s']} s; index memory {result['index_rss_mb']:.0f} MB"
    )
    write_result("learner_index", metadata, result)


if __name__ == "__main__":
    main()
