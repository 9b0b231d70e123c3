"""The guarded River re-ranker: identity start, learning, clipping, schedule, guard, snapshots.

The synthetic setup: five features with known fraud effects; the base model sees only part of
them and is miscalibrated (its logit is half the true one, shifted up by 1), so a re-ranker
that learns from consistent labels must beat it on log loss.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson
import pytest
from pydantic import ValidationError

from fraudguard.control.reranker_message import (
    parse_reranker,
    parse_reranker_message,
    reranker_message,
)
from fraudguard.errors import ControlMessageError, RerankerError
from fraudguard.reranker.evaluation import LabelledDecision, evaluate_delayed, log_loss
from fraudguard.reranker.guard import GuardConfig
from fraudguard.reranker.model import (
    DEFAULT_FEATURES,
    FeatureScaling,
    Reranker,
    RerankerConfig,
    RerankerSnapshot,
)

Row = tuple[float, dict[str, float], bool]


def synthetic(n: int, seed: int) -> list[Row]:
    rng = np.random.default_rng(seed)
    amount = rng.lognormal(3.5, 1.0, n)
    count = rng.poisson(0.3, n).astype(float)
    zscore = rng.normal(0.0, 1.0, n)
    new_device = (rng.random(n) < 0.05).astype(float)
    distinct = rng.poisson(5.0, n).astype(float)
    seen = -4.5 + (np.log1p(amount) - 3.5) + 0.8 * zscore + 0.5 * count
    truth = seen + 1.5 * new_device
    fraud = rng.random(n) < 1.0 / (1.0 + np.exp(-truth))
    base_logit = 0.5 * seen + 1.0 + rng.normal(0.0, 0.3, n)
    base = 1.0 / (1.0 + np.exp(-base_logit))
    return [
        (
            float(p),
            {
                "txn_amount_eur": float(a),
                "card_count_1h": float(c),
                "card_amount_zscore_30d": float(z),
                "card_new_device_30d": float(d),
                "merchant_distinct_card_id_1h": float(m),
            },
            bool(y),
        )
        for p, a, c, z, d, m, y in zip(
            base, amount, count, zscore, new_device, distinct, fraud, strict=True
        )
    ]


SCALING = FeatureScaling.fit(DEFAULT_FEATURES, [f for _, f, _ in synthetic(5_000, 99)])
PROBES = synthetic(200, 7)


def trained(n: int = 20_000, batch: int = 200, **guard: float) -> Reranker:
    reranker = Reranker(scaling=SCALING, guard=GuardConfig(**guard))
    rows = synthetic(n, 1)
    for i in range(0, n, batch):
        assert reranker.learn_batch(rows[i : i + batch]).accepted
    return reranker


def scores(reranker: Reranker, rows: list[Row] = PROBES) -> list[float]:
    return [reranker.score(p, f) for p, f, _ in rows]


def flipped(rows: list[Row]) -> list[Row]:
    return [(p, f, not y) for p, f, y in rows]


# Starting point and scoring


@pytest.mark.parametrize("p", [1e-5, 0.001, 0.02, 0.3, 0.5, 0.77, 0.999, 1 - 1e-5])
def test_untrained_reranker_returns_the_base_score(p: float) -> None:
    reranker = Reranker(scaling=SCALING)
    for _, features, _ in PROBES[:20]:
        assert math.isclose(reranker.score(p, features), p, rel_tol=1e-12)
    assert math.isclose(reranker.score(p, {}), p, rel_tol=1e-12)  # missing features: no effect


def test_untrained_weights_are_the_identity_on_the_base_logit() -> None:
    weights = Reranker().weights
    assert weights.pop("base_logit") == 1.0
    assert set(weights.values()) == {0.0}


def test_base_scores_beyond_the_logit_clip_are_clipped() -> None:
    reranker = Reranker()
    bound = 1.0 / (1.0 + math.exp(12.0))
    assert math.isclose(reranker.score(1e-9, {}), bound, rel_tol=1e-9)
    assert reranker.score(0.0, {}) == reranker.score(1e-9, {})
    assert math.isclose(reranker.score(1.0, {}), 1.0 - bound, rel_tol=1e-12)


def test_scoring_changes_neither_the_features_nor_the_reranker() -> None:
    reranker = trained(2_000)
    version = reranker.version
    features = dict(PROBES[0][1])
    for _ in range(3):
        reranker.score(0.4, features)
    assert features == PROBES[0][1]
    assert reranker.version == version


@pytest.mark.parametrize("p", [-0.1, 1.5, math.nan])
def test_a_base_score_outside_0_1_is_refused(p: float) -> None:
    with pytest.raises(RerankerError, match="probability"):
        Reranker().score(p, {})


def test_a_bad_row_refuses_the_whole_batch_before_learning_any() -> None:
    reranker = trained(1_000)
    version, n = reranker.version, reranker.n_updates
    rows = synthetic(10, 3)
    with pytest.raises(RerankerError, match="label"):
        reranker.learn_batch([*rows, (0.5, {}, 2)])
    assert (reranker.version, reranker.n_updates) == (version, n)


def test_feature_names_come_from_the_registry() -> None:
    with pytest.raises(ValidationError, match="unknown feature 'card_colour'"):
        RerankerConfig(features=("txn_amount_eur", "card_colour"))
    with pytest.raises(ValidationError, match="twice"):
        RerankerConfig(features=("txn_amount_eur", "txn_amount_eur"))
    config = RerankerConfig(features=("txn_online", "card_count_24h"))
    assert Reranker(config).weights.keys() == {
        "base_logit", "txn_online", "card_count_24h", "intercept",
    }  # fmt: skip
    with pytest.raises(RerankerError, match="scaling"):
        Reranker(config, SCALING)


# Learning, clipping, schedule


def test_learning_from_consistent_labels_beats_the_miscalibrated_base() -> None:
    reranker = trained(20_000)
    test = synthetic(10_000, 2)
    y = np.array([label for *_, label in test], dtype=float)
    base = log_loss(y, np.array([p for p, _, _ in test]))
    rerank = log_loss(y, np.array(scores(reranker, test)))
    assert rerank < 0.7 * base
    assert reranker.n_updates == 20_000


@pytest.mark.parametrize("clip", [1.0, 0.1])
def test_clipping_bounds_how_far_one_huge_example_moves_each_weight(clip: float) -> None:
    config = RerankerConfig(clip_gradient=clip)
    reranker = Reranker(config, SCALING)
    for i in range(5):  # move away from the start so the check is not a special case
        reranker.learn_batch(synthetic(200, 10 + i))
    lr, intercept_lr = reranker.learning_rate, reranker.intercept_learning_rate
    before = reranker.weights
    huge = {
        "txn_amount_eur": 1e12,
        "card_count_1h": 1e9,
        "card_amount_zscore_30d": -1e9,
        "card_new_device_30d": 1.0,
        "merchant_distinct_card_id_1h": 1e15,
    }
    verdict = reranker.learn_batch([(1e-12, huge, True)])  # a confident miss: gradient ~ -1
    assert verdict.accepted
    after = reranker.weights
    moved = {name: abs(after[name] - before[name]) for name in before}
    eps = 1e-12
    assert moved["intercept"] <= intercept_lr * clip + eps
    assert moved["base_logit"] <= lr * clip * config.logit_clip + eps
    for name in DEFAULT_FEATURES:
        assert moved[name] <= lr * clip * config.feature_clip + eps
    # The bound is reached, not just respected: the clip is what limits the step.
    assert moved["txn_amount_eur"] == pytest.approx(lr * clip * config.feature_clip, rel=0.02)


def test_the_learning_rate_decreases_with_the_labels_learnt() -> None:
    config = RerankerConfig()
    reranker = Reranker(config, SCALING)
    rates = [reranker.learning_rate]
    rows = synthetic(3_000, 4)
    for i in range(0, 3_000, 500):
        reranker.learn_batch(rows[i : i + 500])
        rates.append(reranker.learning_rate)
    assert rates[0] == config.learning_rate
    assert all(a > b for a, b in zip(rates, rates[1:], strict=False))
    assert rates[-1] == pytest.approx(config.learning_rate / 3_001**config.power)
    assert reranker.intercept_learning_rate == pytest.approx(
        config.intercept_learning_rate / 3_001**config.power
    )


# Guard


def test_a_burst_of_thousands_of_flipped_labels_trips_the_guard_and_rolls_back() -> None:
    reranker = trained(20_000)
    stable = reranker.snapshot()
    before = scores(reranker)

    verdict = reranker.learn_batch(flipped(synthetic(3_000, 5)))

    assert not verdict.accepted
    assert verdict.reason.startswith("step ")
    assert verdict.step > verdict.step_limit
    assert verdict.rolled_back_to == stable.version == reranker.version
    assert scores(reranker) == before == scores(stable.restore())
    # The refused labels stay out of the loss window: the next sound batch is accepted.
    assert reranker.learn_batch(synthetic(200, 6)).accepted


def test_flipped_labels_spread_over_several_polls_are_refused_poll_by_poll() -> None:
    reranker = trained(20_000)
    stable = reranker.snapshot()
    burst = flipped(synthetic(3_000, 8))
    verdicts = [reranker.learn_batch(burst[i : i + 500]) for i in range(0, 3_000, 500)]
    assert not any(v.accepted for v in verdicts)
    assert reranker.version == stable.version


def test_the_loss_check_alone_refuses_a_batch_that_makes_the_reranker_worse() -> None:
    # Step limits out of the way: only the loss against the base can catch the burst.
    reranker = trained(20_000, max_step=1e9, max_relative_step=1e9)
    stable = reranker.snapshot()
    verdict = reranker.learn_batch(flipped(synthetic(3_000, 5)))
    assert not verdict.accepted
    assert verdict.reason.startswith("log loss")
    assert verdict.rerank_log_loss is not None and verdict.base_log_loss is not None
    assert verdict.rerank_log_loss > 1.05 * verdict.base_log_loss
    assert reranker.version == stable.version


def test_normal_batches_of_any_size_pass_the_guard() -> None:
    rows = synthetic(12_000, 1)
    for size, n in ((1, 2_000), (50, 6_000), (3_000, 12_000)):
        reranker = Reranker(scaling=SCALING)
        verdicts = [reranker.learn_batch(rows[i : i + size]) for i in range(0, n, size)]
        assert all(v.accepted for v in verdicts), next(v for v in verdicts if not v.accepted)


def test_an_empty_batch_changes_nothing() -> None:
    reranker = trained(1_000)
    version = reranker.version
    verdict = reranker.learn_batch([])
    assert verdict.accepted and verdict.reason == "empty batch" and reranker.version == version


def test_the_verdict_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    reranker = trained(20_000)
    with caplog.at_level("WARNING", logger="fraudguard.reranker.model"):
        reranker.learn_batch(flipped(synthetic(3_000, 5)))
    assert "refused (step" in caplog.text and "rolled back to rr-20000-" in caplog.text


def test_rollback_goes_back_one_stable_snapshot_or_to_a_named_one() -> None:
    reranker = Reranker(scaling=SCALING, guard=GuardConfig(history=3))
    rows = synthetic(1_000, 1)
    versions = [reranker.version]
    for i in range(0, 1_000, 250):
        reranker.learn_batch(rows[i : i + 250])
        versions.append(reranker.version)
    assert [s.version for s in reranker.history()] == versions[-3:]
    assert reranker.rollback().version == versions[-2] == reranker.version
    assert reranker.n_updates == 750
    with pytest.raises(RerankerError, match="forgotten"):
        reranker.rollback(to=versions[0])
    assert reranker.rollback(to=versions[-3]).version == versions[-3]
    with pytest.raises(RerankerError, match="no earlier"):
        reranker.rollback()


# Snapshots


def test_a_snapshot_restores_identical_scores_and_identical_learning() -> None:
    reranker = trained(5_000)
    snapshot = reranker.snapshot()
    twin = snapshot.restore()
    assert scores(twin) == scores(reranker)
    assert twin.version == snapshot.version and twin.snapshot().blob == snapshot.blob
    assert twin.learning_rate == reranker.learning_rate
    batch = synthetic(300, 9)
    assert reranker.learn_batch(batch).version == twin.learn_batch(batch).version
    assert scores(twin) == scores(reranker)


def test_snapshots_are_deterministic_and_versioned_by_content() -> None:
    a, b = trained(2_000), trained(2_000)
    assert a.snapshot().blob == b.snapshot().blob
    assert a.version == b.version
    assert a.version.startswith("rr-2000-") and len(a.version.split("-")[2]) == 6
    assert Reranker().version != a.version


def test_a_tampered_snapshot_is_refused() -> None:
    snapshot = trained(1_000).snapshot()
    forged = RerankerSnapshot(
        snapshot.version, snapshot.created_at_ms, snapshot.n_updates,
        snapshot.blob.replace(b'"base_logit":', b'"base_logit":9'), snapshot.metrics,
    )  # fmt: skip
    with pytest.raises(RerankerError, match="does not match"):
        forged.restore()
    with pytest.raises(RerankerError, match="format"):
        RerankerSnapshot.of(snapshot.blob.replace(b'"format":1', b'"format":2'), 0)


def test_a_control_message_carries_a_snapshot_to_the_job() -> None:
    snapshot = trained(5_000).snapshot()
    raw = reranker_message(snapshot)
    assert len(raw) < 4_000  # far under the topic's 1 MB
    received = parse_reranker_message(raw)
    assert received == snapshot
    assert scores(received.restore()) == scores(snapshot.restore())


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d | {"extra": 1}, "extra: unknown key"),
        (lambda d: {k: v for k, v in d.items() if k != "blob_b64"}, "blob_b64: is required"),
        (lambda d: d | {"blob_b64": "***"}, "not base64"),
        (lambda d: d | {"version": "rr-5000-000000"}, "does not match the blob"),
        (lambda d: d | {"n_updates": -1}, "non-negative integer"),
        (lambda d: d | {"metrics": {"window": "big"}}, "metrics"),
    ],
)
def test_a_bad_control_message_is_refused_with_the_reason(
    edit: Callable[[dict[str, Any]], dict[str, Any]], message: str
) -> None:
    doc = orjson.loads(reranker_message(trained(1_000).snapshot()))
    with pytest.raises(ControlMessageError, match=message):
        parse_reranker(edit(doc))


# Delayed-label evaluation


def decisions(rows: list[Row], delay_ms: int) -> list[LabelledDecision]:
    return [
        LabelledDecision(i * 60_000, p, f, y, i * 60_000 + delay_ms)
        for i, (p, f, y) in enumerate(rows)
    ]


def test_labels_reach_the_reranker_only_once_known() -> None:
    rows = synthetic(4_000, 12)
    never = evaluate_delayed(decisions(rows, 10**12), Reranker(scaling=SCALING), 2_000 * 60_000)
    assert never.labels_learnt == 0 and never.batches == 0
    assert never.rerank_average_precision == pytest.approx(never.base_average_precision)
    report = evaluate_delayed(decisions(rows, 3_600_000), Reranker(scaling=SCALING), 2_000 * 60_000)
    # Polls every 5 minutes; at the last one (minute 3995) labels up to decision 3935 are known.
    assert report.labels_learnt == 3_936
    assert report.holdout_decisions == 2_000 and report.refused_batches == 0
    assert report.rerank_log_loss < report.base_log_loss


def test_the_evaluation_refuses_a_stream_out_of_time_order() -> None:
    stream = decisions(synthetic(3, 1), 1_000)
    with pytest.raises(RerankerError, match="time order"):
        evaluate_delayed(stream[::-1], Reranker(), 0)
