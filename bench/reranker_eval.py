"""Does the guarded re-ranker help? Generated payments, delayed labels, a held-out tail.

Generates a labelled stream (`fraudguard generate`'s simulator), computes the job's features,
scores every transaction with a *stand-in* base model, then replays the period after the
stand-in's training window through `fraudguard.scoring.reranker_eval.evaluate_delayed`: labels
reach the re-ranker only when known, and the last `--holdout-days` are the held-out tail.

- Stand-in base models (until the XGBoost champion is available): class-weighted (balanced)
  scikit-learn logistic regressions fitted on the first `--train-days`, with Gaussian noise
  (`--base-noise`) on the logit. Class weighting makes them over-estimate fraud probabilities,
  as a class-weighted production model would. Two of them, because the answer depends on it:
  `few_features` does not see the re-ranker's features (`BASE_FEATURES` only); `with_reranker_
  features` sees them too (`STRONG_FEATURES`), like a model trained on all 58 would.
- Labels: a fraud is known at its report time (`reported_at`, median 5 days later). A
  legitimate payment is taken as legitimate once `--maturity-days` pass without a report
  (what issuers do; the generator's sparse `legit` investigation labels are not used).
- The re-ranker's feature scaling is fitted on the training window's transactions (no labels).

Prints progress to stderr and one JSON object as the last stdout line, also written to
bench/results/reranker_eval.json.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from fraudguard.features import build_features
from fraudguard.generator import GeneratorConfig, PaymentStream
from fraudguard.scoring.reranker import DEFAULT_FEATURES, FeatureScaling, Reranker, RerankerConfig
from fraudguard.scoring.reranker_eval import LabelledDecision, average_precision, evaluate_delayed
from fraudguard.scoring.reranker_guard import GuardConfig

DAY = 86_400_000
BASE_FEATURES = (
    "txn_online",
    "card_distinct_merchant_id_24h",
    "card_cross_border",
    "card_amount_ratio_30d",
)
STRONG_FEATURES = (
    *BASE_FEATURES,
    *DEFAULT_FEATURES,
    "txn_night",
    "card_count_10m",
    "card_new_country_30d",
    "device_distinct_card_id_24h",
    "terminal_distinct_card_id_24h",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cards", type=int, default=2_000)
    parser.add_argument("--merchants", type=int, default=400)
    parser.add_argument("--days", type=float, default=45.0)
    parser.add_argument("--fraud-rate", type=float, default=0.003)
    parser.add_argument("--train-days", type=float, default=15.0)
    parser.add_argument("--holdout-days", type=float, default=10.0)
    parser.add_argument("--maturity-days", type=float, default=7.0)
    parser.add_argument("--poll-minutes", type=float, default=5.0)
    parser.add_argument("--base-noise", type=float, default=0.5)
    parser.add_argument("--learning-rate", type=float, default=RerankerConfig().learning_rate)
    parser.add_argument("--power", type=float, default=RerankerConfig().power)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    started = time.monotonic()

    gen = GeneratorConfig(
        seed=args.seed, cards=args.cards, merchants=args.merchants, days=args.days,
        fraud_rate=args.fraud_rate,
    )  # fmt: skip
    txns, reported = [], {}
    for batch in PaymentStream(gen).batches():
        txns.extend(batch.transactions())
        for txn_id, scenario, at in zip(
            batch.txn_ids, batch.scenario.tolist(), batch.reported_ms.tolist(), strict=True
        ):
            if scenario:
                reported[txn_id] = at
    log(f"generated {len(txns):,} transactions, {len(reported):,} fraudulent")

    keep = tuple(dict.fromkeys((*DEFAULT_FEATURES, *STRONG_FEATURES)))
    rows = []
    for txn, features in build_features(txns, dedupe_ttl_ms=DAY):
        rows.append((txn.ts_ms, txn.txn_id, {name: features[name] for name in keep}))
    features_s = time.monotonic() - started
    log(f"features of {len(rows):,} transactions in {features_s:.0f} s")

    start_ms = rows[0][0]
    train_end = start_ms + int(args.train_days * DAY)
    holdout_from = start_ms + int((args.days - args.holdout_days) * DAY)
    train = [r for r in rows if r[0] < train_end]
    replay = [r for r in rows if r[0] >= train_end]
    train_fraud = [txn_id in reported for _, txn_id, _ in train]
    config = RerankerConfig(learning_rate=args.learning_rate, power=args.power)
    scaling = FeatureScaling.fit(config.features, (f for _, _, f in train))
    maturity = int(args.maturity_days * DAY)

    results = {}
    for name, base_features in (
        ("few_features", BASE_FEATURES),
        ("with_reranker_features", STRONG_FEATURES),
    ):
        base = StandIn(base_features, args.base_noise, args.seed)
        base.fit([f for _, _, f in train], train_fraud)
        decisions = []
        probs = base.predict([f for _, _, f in replay])
        for (ts, txn_id, features), p in zip(replay, probs, strict=True):
            fraud = txn_id in reported
            label_at = reported[txn_id] if fraud else ts + maturity
            decisions.append(LabelledDecision(ts, p, features, fraud, max(label_at, ts)))
        replay_started = time.monotonic()
        report = evaluate_delayed(
            decisions, Reranker(config, scaling), holdout_from, int(args.poll_minutes * 60_000)
        )
        replay_s = time.monotonic() - replay_started
        log(
            f"{name}: average precision {report.base_average_precision:.3f} (base) -> "
            f"{report.rerank_average_precision:.3f} (re-ranked); {len(decisions):,} decisions "
            f"replayed in {replay_s:.1f} s"
        )
        results[name] = {
            "base_features": list(base_features),
            "base_train_average_precision": average_precision(
                np.array(train_fraud, dtype=float), base.predict_clean(train)
            ),
            **report.to_dict(),
            "average_precision_change": report.rerank_average_precision
            - report.base_average_precision,
            "replay_s": round(replay_s, 1),
        }

    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "generator": {
            "seed": args.seed,
            "cards": args.cards,
            "merchants": args.merchants,
            "days": args.days,
            "fraud_rate": args.fraud_rate,
        },  # fmt: skip
        "transactions": len(rows),
        "train_days": args.train_days,
        "holdout_days": args.holdout_days,
        "maturity_days": args.maturity_days,
        "poll_minutes": args.poll_minutes,
        "base_logit_noise": args.base_noise,
        "reranker": config.model_dump(mode="json"),
        "guard": GuardConfig().model_dump(mode="json"),
        "stand_ins": results,
        "features_s": round(features_s, 1),
        "bench_s": round(time.monotonic() - started, 1),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, default=float)
    (args.out / "reranker_eval.json").write_text(text + "\n")
    print(text)


class StandIn:
    """The base model until the real one lands: balanced logistic regression plus noise."""

    def __init__(self, features: tuple[str, ...], noise: float, seed: int) -> None:
        from sklearn.linear_model import LogisticRegression

        self.features = features
        self.noise = noise
        self.rng = np.random.default_rng(seed)
        self.model = LogisticRegression(class_weight="balanced", max_iter=1_000)

    def matrix(self, rows: list[dict[str, float]]) -> np.ndarray:
        return np.array(
            [[math.copysign(math.log1p(abs(r[n])), r[n]) for n in self.features] for r in rows]
        )

    def fit(self, rows: list[dict[str, float]], fraud: list[bool]) -> None:
        self.model.fit(self.matrix(rows), np.array(fraud))

    def predict_clean(self, rows: list[tuple[int, str, dict[str, float]]]) -> np.ndarray:
        return self.model.predict_proba(self.matrix([f for _, _, f in rows]))[:, 1]

    def predict(self, rows: list[dict[str, float]]) -> list[float]:
        logit = self.model.decision_function(self.matrix(rows))
        logit = logit + self.rng.normal(0.0, self.noise, len(logit))
        return (1.0 / (1.0 + np.exp(-logit))).tolist()


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
