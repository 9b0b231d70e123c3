"""Does the guarded re-ranker help the XGBoost champion? Generated payments, delayed labels,
a held-out tail.

Generates a labelled stream (`fraudguard generate`'s simulator) and computes the job's 58
features offline (the same steps the job runs). The base model is trained exactly as
`fraudguard train` trains a champion (class weight chosen by prequential validation, early
stopping) on the first `--train-days`, with only the frauds reported by then (what the bank
knew). The period after it is replayed through
`fraudguard.reranker.evaluation.evaluate_delayed`: labels reach the re-ranker only when known,
in polls every `--poll-minutes`, through the guarded `learn_batch`; the last `--holdout-days`
are the held-out tail on which base and re-ranked scores are compared, whichever way it goes.

- Labels: a fraud is known at its report time (`reported_at`, median 5 days later). A
  legitimate payment is taken as legitimate once `--maturity-days` pass without a report
  (what issuers do; the generator's sparse `legit` investigation labels are not used).
- The re-ranker's feature scaling is fitted on the training window's transactions (no labels).
- Several generator seeds (`--seeds`), because one held-out tail has few frauds.

Writes bench/results/reranker_eval.json.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from bench_results import RESULTS_DIR, log, run_metadata, write_result
from fraudguard.features import FEATURE_NAMES, build_features
from fraudguard.features.labels import FraudLabels
from fraudguard.features.offline import feature_table
from fraudguard.generator import GeneratorConfig, PaymentStream
from fraudguard.reranker.evaluation import LabelledDecision, evaluate_delayed
from fraudguard.reranker.guard import GuardConfig
from fraudguard.reranker.model import FeatureScaling, Reranker, RerankerConfig
from fraudguard.training import TrainConfig, train
from fraudguard.training.booster import predict
from fraudguard.training.data import from_feature_table

DAY = 86_400_000


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="7,8,9", help="Generator seeds, comma-separated.")
    parser.add_argument("--cards", type=int, default=2_000)
    parser.add_argument("--merchants", type=int, default=400)
    parser.add_argument("--days", type=float, default=45.0)
    parser.add_argument("--fraud-rate", type=float, default=0.003)
    parser.add_argument("--train-days", type=float, default=20.0)
    parser.add_argument("--holdout-days", type=float, default=10.0)
    parser.add_argument("--maturity-days", type=float, default=7.0)
    parser.add_argument("--poll-minutes", type=float, default=5.0)
    parser.add_argument("--learning-rate", type=float, default=RerankerConfig().learning_rate)
    parser.add_argument("--power", type=float, default=RerankerConfig().power)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    metadata = run_metadata()
    started = time.monotonic()
    config = RerankerConfig(learning_rate=args.learning_rate, power=args.power)
    runs = [evaluate_seed(int(seed), args, config) for seed in args.seeds.split(",")]
    base_ap = [r["base_average_precision"] for r in runs]
    rerank_ap = [r["rerank_average_precision"] for r in runs]
    result = {
        "generator": {
            "cards": args.cards,
            "merchants": args.merchants,
            "days": args.days,
            "fraud_rate": args.fraud_rate,
        },  # fmt: skip
        "train_days": args.train_days,
        "holdout_days": args.holdout_days,
        "maturity_days": args.maturity_days,
        "poll_minutes": args.poll_minutes,
        "reranker": config.model_dump(mode="json"),
        "guard": GuardConfig().model_dump(mode="json"),
        "runs": runs,
        "mean_base_average_precision": float(np.mean(base_ap)),
        "mean_rerank_average_precision": float(np.mean(rerank_ap)),
        "mean_average_precision_change": float(np.mean(rerank_ap) - np.mean(base_ap)),
        "bench_s": round(time.monotonic() - started, 1),
    }
    write_result("reranker_eval", metadata, result, args.out)


def evaluate_seed(seed: int, args: argparse.Namespace, config: RerankerConfig) -> dict[str, Any]:
    started = time.monotonic()
    gen = GeneratorConfig(
        seed=seed, cards=args.cards, merchants=args.merchants, days=args.days,
        fraud_rate=args.fraud_rate,
    )  # fmt: skip
    txns, reported, label_docs = [], {}, []
    for batch in PaymentStream(gen).batches():
        txns.extend(batch.transactions())
        label_docs += [label.to_dict() for label in batch.labels]
        for txn_id, scenario, at in zip(
            batch.txn_ids, batch.scenario.tolist(), batch.reported_ms.tolist(), strict=True
        ):
            if scenario:
                reported[txn_id] = at
    # The label-fed features see the generator's fraud labels as the job would, at report time.
    fed = FraudLabels.of(label_docs).labels
    rows = list(build_features(txns, dedupe_ttl_ms=DAY, labels=fed))
    log(f"seed {seed}: {len(rows):,} transactions, {len(reported):,} fraudulent, features in "
        f"{time.monotonic() - started:.0f} s")  # fmt: skip

    start_ms = rows[0][0].ts_ms
    train_end = start_ms + int(args.train_days * DAY)
    holdout_from = start_ms + int((args.days - args.holdout_days) * DAY)
    train_rows = [r for r in rows if r[0].ts_ms < train_end]
    replay = [r for r in rows if r[0].ts_ms >= train_end]
    known = {txn_id for txn_id, at in reported.items() if at < train_end}
    table = pa.table(feature_table(train_rows))
    trained = train(from_feature_table(table, known), TrainConfig(compare=False), progress=False)
    X = np.array([[f[name] for name in FEATURE_NAMES] for _, f in replay], dtype=np.float32)
    probs = predict(trained.booster, X).tolist()
    log(f"seed {seed}: champion trained on {len(train_rows):,} rows ({len(known)} frauds known), "
        f"scale_pos_weight {trained.weight:g}")  # fmt: skip

    keep = config.features
    scaling = FeatureScaling.fit(keep, (f for _, f in train_rows))
    maturity = int(args.maturity_days * DAY)
    decisions = []
    for (txn, features), p in zip(replay, probs, strict=True):
        ts, fraud = txn.ts_ms, txn.txn_id in reported
        label_at = reported[txn.txn_id] if fraud else ts + maturity
        decisions.append(
            LabelledDecision(ts, p, {n: features[n] for n in keep}, fraud, max(label_at, ts))
        )
    report = evaluate_delayed(
        decisions, Reranker(config, scaling), holdout_from, int(args.poll_minutes * 60_000)
    )
    log(
        f"seed {seed}: held-out average precision {report.base_average_precision:.3f} (base) -> "
        f"{report.rerank_average_precision:.3f} (re-ranked), fraud rate {report.fraud_rate:.3%}"
    )
    return {
        "seed": seed,
        "transactions": len(rows),
        "champion_scale_pos_weight": trained.weight,
        **report.to_dict(),
        "average_precision_change": report.rerank_average_precision - report.base_average_precision,
        "seconds": round(time.monotonic() - started, 1),
    }


if __name__ == "__main__":
    main()
