"""Metrics against brute force and hand-worked cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from fraudguard.training.metrics import (
    DAY_MS,
    average_precision,
    brier_score,
    card_precision_at_k,
    evaluate,
    operating_point,
    precision_at_recall,
    recall_at_precision,
    reliability,
)


def random_case(seed: int, n: int = 3000, rate: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < rate).astype(np.int8)
    # Informative but noisy scores, rounded so that ties occur.
    s = np.round(np.clip(0.3 * y + rng.random(n) * 0.7, 0, 1), 2)
    return y, s


def brute_points(y: np.ndarray, s: np.ndarray) -> list[tuple[float, float]]:
    """(precision, recall) of flagging score >= t, for every distinct score t."""
    points = []
    for t in np.unique(s):
        flagged = s >= t
        tp = int((flagged & (y == 1)).sum())
        points.append((tp / int(flagged.sum()), tp / int(y.sum())))
    return points


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_operating_points_match_brute_force(seed: int) -> None:
    y, s = random_case(seed)
    points = brute_points(y, s)
    for p in (0.2, 0.5, 0.8):
        best = max((r for prec, r in points if prec >= p), default=0.0)
        assert recall_at_precision(y, s, p) == pytest.approx(best, abs=1e-4)
    for r in (0.2, 0.5, 0.8):
        best = max((prec for prec, rec in points if rec >= r), default=0.0)
        assert precision_at_recall(y, s, r) == pytest.approx(best, abs=1e-4)


def test_operating_point_threshold_reaches_what_it_claims() -> None:
    y, s = random_case(4)
    point = operating_point(y, s, precision=0.5)
    flagged = s >= point["threshold"]
    assert (y[flagged] == 1).mean() >= 0.5
    assert (y[flagged] == 1).sum() / y.sum() == pytest.approx(point["recall"], abs=1e-4)


def test_unreachable_precision_flags_nothing() -> None:
    point = operating_point([1, 0, 0], [0.1, 0.9, 0.8], precision=0.99)
    assert point == {"precision": 0.0, "recall": 0.0, "threshold": math.inf}


def test_average_precision_is_sklearns_and_near_the_fraud_rate_for_noise() -> None:
    y, s = random_case(5)
    assert average_precision(y, s) == pytest.approx(average_precision_score(y, s))
    rng = np.random.default_rng(6)
    y = (rng.random(200_000) < 0.01).astype(np.int8)
    assert average_precision(y, rng.random(len(y))) == pytest.approx(0.01, abs=0.002)


def test_card_precision_counts_cards_per_day_against_k() -> None:
    # Day 0: card a pays twice (one fraud), b once; day 1: a legit, c fraud, d legit.
    y = [0, 1, 0, 0, 1, 0]
    s = [0.9, 0.1, 0.5, 0.8, 0.2, 0.7]
    cards = ["a", "a", "b", "a", "c", "d"]
    ts = [0, 10, 20, DAY_MS, DAY_MS + 1, DAY_MS + 2]
    # k=1: day 0 top card a (max 0.9, has a fraud) -> 1; day 1 top card a (legit) -> 0.
    assert card_precision_at_k(y, s, cards, ts, k=1) == (0.5, 1.0)
    # k=5: the denominator stays k; each day has one fraudulent card.
    assert card_precision_at_k(y, s, cards, ts, k=5) == (0.2, 0.2)


def test_reliability_bins_hold_every_score_once() -> None:
    y, s = random_case(7)
    s[:3] = [0.0, 1.0, 0.5]
    bins = reliability(y, s, bins=10)
    assert sum(b["count"] for b in bins) == len(y)
    assert bins[-1]["count"] >= 1 and bins[0]["count"] >= 1
    assert brier_score([1, 0], [0.5, 0.5]) == 0.25


def test_evaluate_without_fraud_reports_nan_not_an_error() -> None:
    m = evaluate([0, 0, 0], [0.1, 0.2, 0.3], ["a", "b", "c"], [0, 0, 0], k=2)
    assert math.isnan(m["average_precision"]) and math.isnan(m["roc_auc"])
    assert m["recall_at_precision"]["0.8"]["recall"] == 0.0
    assert m["card_precision_at_k"] == 0.0
