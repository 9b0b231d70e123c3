"""The measures fraud teams read: ranking quality, operating points, cards per day, calibration.

Scores are fraud probabilities, labels are 1 for fraud. Every function takes plain arrays, so
the same code evaluates the base model, a re-ranker or a baseline.

>>> y = [0, 0, 1, 0, 1, 1, 0, 0]
>>> s = [0.1, 0.2, 0.9, 0.3, 0.8, 0.4, 0.5, 0.05]
>>> round(average_precision(y, s), 4), round(roc_auc(y, s), 4)
(0.9167, 0.9333)
>>> recall_at_precision(y, s, 0.8), precision_at_recall(y, s, 1.0)
(0.6667, 0.75)
>>> round(brier_score([0, 1], [0.1, 0.7]), 3)
0.05
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

DAY_MS = 86_400_000


def _arrays(y_true: ArrayLike, scores: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true).astype(np.int8)
    s = np.asarray(scores, dtype=np.float64)
    if y.shape != s.shape or y.ndim != 1:
        raise ValueError(f"labels {y.shape} and scores {s.shape} must be 1-d of one length")
    return y, s


def _both_classes(y: np.ndarray) -> bool:
    return 0 < int(y.sum()) < len(y)


def average_precision(y_true: ArrayLike, scores: ArrayLike) -> float:
    """Area under the precision-recall curve (step-wise); NaN without fraud or without legit.

    A random ranking scores the fraud rate, so always read it beside the fraud rate.

    >>> average_precision([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8])
    1.0
    >>> average_precision([0, 0], [0.1, 0.2])
    nan
    """
    y, s = _arrays(y_true, scores)
    return float(average_precision_score(y, s)) if _both_classes(y) else math.nan


def roc_auc(y_true: ArrayLike, scores: ArrayLike) -> float:
    """Area under the ROC curve; NaN without both classes.

    >>> roc_auc([0, 1, 0, 1], [0.1, 0.9, 0.95, 0.8])
    0.5
    """
    y, s = _arrays(y_true, scores)
    return float(roc_auc_score(y, s)) if _both_classes(y) else math.nan


def _pr_points(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall and the threshold reaching them (score >= threshold is flagged)."""
    precision, recall, thresholds = precision_recall_curve(y, s)
    # The curve's last point (precision 1, recall 0) has no threshold: nothing is flagged.
    return precision[:-1], recall[:-1], thresholds


def operating_point(
    y_true: ArrayLike,
    scores: ArrayLike,
    *,
    precision: float | None = None,
    recall: float | None = None,
) -> dict[str, float]:
    """The best point with at least the given precision (highest recall) or at least the given
    recall (highest precision): its precision, recall and score threshold.

    With no such point, precision and recall are 0 and the threshold is infinite (flag nothing).

    >>> operating_point([0, 1, 1, 0], [0.2, 0.9, 0.6, 0.7], precision=1.0)
    {'precision': 1.0, 'recall': 0.5, 'threshold': 0.9}
    >>> operating_point([0, 1, 1, 0], [0.2, 0.9, 0.6, 0.7], recall=1.0)
    {'precision': 0.6667, 'recall': 1.0, 'threshold': 0.6}
    """
    if (precision is None) == (recall is None):
        raise ValueError("give exactly one of precision and recall")
    y, s = _arrays(y_true, scores)
    none = {"precision": 0.0, "recall": 0.0, "threshold": math.inf}
    if not _both_classes(y):
        return none
    p, r, t = _pr_points(y, s)
    if precision is not None:
        ok = np.flatnonzero(p >= precision)
        order = (p[ok], r[ok])  # most recall, then most precision
    else:
        ok = np.flatnonzero(r >= recall)
        order = (r[ok], p[ok])  # most precision, then most recall
    if not len(ok):
        return none
    best = ok[np.lexsort(order)[-1]]
    # The threshold is not rounded: a rounded one could flag a different set of payments.
    return {
        "precision": round(float(p[best]), 4),
        "recall": round(float(r[best]), 4),
        "threshold": float(t[best]),
    }


def recall_at_precision(y_true: ArrayLike, scores: ArrayLike, precision: float) -> float:
    """The highest recall reachable while flagged transactions are at least ``precision`` fraud.

    >>> recall_at_precision([0, 1, 1, 0], [0.2, 0.9, 0.6, 0.7], 0.6)
    1.0
    """
    return operating_point(y_true, scores, precision=precision)["recall"]


def precision_at_recall(y_true: ArrayLike, scores: ArrayLike, recall: float) -> float:
    """The highest precision reachable while catching at least ``recall`` of the fraud.

    >>> precision_at_recall([0, 1, 1, 0], [0.2, 0.9, 0.6, 0.7], 0.5)
    1.0
    """
    return operating_point(y_true, scores, recall=recall)["precision"]


def card_precision_at_k(
    y_true: ArrayLike,
    scores: ArrayLike,
    card_id: ArrayLike,
    ts_ms: ArrayLike,
    k: int = 100,
) -> tuple[float, float]:
    """Mean over UTC days of the share of fraudulent cards among the day's ``k`` riskiest.

    Investigators work cards, not transactions: each day, a card's risk is its highest score
    and it counts as fraudulent if any of its payments that day is. The denominator is always
    ``k``, so a day with fewer than ``k`` compromised cards cannot reach 1; the second value is
    that ceiling (the mean of ``min(fraud cards, k) / k``), to read the first against.

    >>> card_precision_at_k([1, 0, 0, 1, 0], [0.9, 0.8, 0.1, 0.2, 0.7],
    ...                     ["a", "a", "b", "c", "d"], [0, 1, 2, DAY_MS, DAY_MS], k=1)
    (0.5, 1.0)
    """
    y, s = _arrays(y_true, scores)
    if k < 1:
        raise ValueError("k must be at least 1")
    if len(y) == 0:
        return math.nan, math.nan
    frame = pd.DataFrame(
        {
            "day": np.asarray(ts_ms, dtype=np.int64) // DAY_MS,
            "card": np.asarray(card_id),
            "score": s,
            "fraud": y,
        }
    )
    cards = frame.groupby(["day", "card"], sort=False).agg(
        score=("score", "max"), fraud=("fraud", "max")
    )
    cards = cards.reset_index().sort_values(["day", "score", "card"], ascending=[True, False, True])
    top = cards.groupby("day", sort=True).head(k).groupby("day")["fraud"].sum()
    ceiling = cards.groupby("day")["fraud"].sum().clip(upper=k)
    return float((top / k).mean()), float((ceiling / k).mean())


def caught_within_budget(
    y_true: ArrayLike, scores: ArrayLike, ts_ms: ArrayLike, budget: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per UTC day: the day, its frauds, and the frauds among its ``budget`` highest scores
    (what a review team that works ``budget`` payments a day would catch). Ties in score are
    broken by position, so the count never exceeds the budget.

    >>> caught_within_budget([1, 0, 1, 1], [0.9, 0.8, 0.1, 0.5], [0, 1, 2, DAY_MS], budget=2)
    (array([0, 1]), array([2, 1]), array([1, 1]))
    """
    y, s = _arrays(y_true, scores)
    day = np.asarray(ts_ms, dtype=np.int64) // DAY_MS
    order = np.lexsort((-s, day))  # by day, highest score first
    day, y = day[order], y[order]
    days, first = np.unique(day, return_index=True)
    rank = np.arange(len(day)) - np.repeat(first, np.diff(np.append(first, len(day))))
    frauds = np.bincount(np.searchsorted(days, day), weights=y, minlength=len(days))
    caught = np.bincount(
        np.searchsorted(days, day), weights=y * (rank < budget), minlength=len(days)
    )
    return days, frauds.astype(np.int64), caught.astype(np.int64)


def recall_at_budget(y_true: ArrayLike, scores: ArrayLike, ts_ms: ArrayLike, budget: int) -> float:
    """Share of all frauds caught by reviewing the ``budget`` highest scores of each day;
    NaN without fraud.

    >>> recall_at_budget([1, 0, 1, 1], [0.9, 0.8, 0.1, 0.5], [0, 1, 2, DAY_MS], budget=1)
    0.6667
    """
    _, frauds, caught = caught_within_budget(y_true, scores, ts_ms, budget)
    total = int(frauds.sum())
    return round(int(caught.sum()) / total, 4) if total else math.nan


def brier_score(y_true: ArrayLike, scores: ArrayLike) -> float:
    """Mean squared distance between score and outcome: 0 is perfect, lower is better.

    >>> brier_score([0, 1], [0.0, 1.0])
    0.0
    """
    y, s = _arrays(y_true, scores)
    return float(np.mean((s - y) ** 2)) if len(y) else math.nan


def reliability(y_true: ArrayLike, scores: ArrayLike, bins: int = 10) -> list[dict[str, Any]]:
    """Equal-width score bins with their count, mean score and observed fraud rate.

    A calibrated model has ``mean_score`` close to ``fraud_rate`` in every bin; a class-weighted
    model scores too high, which matters when thresholds are read as probabilities.

    >>> reliability([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9], bins=2)  # doctest: +NORMALIZE_WHITESPACE
    [{'low': 0.0, 'high': 0.5, 'count': 2, 'mean_score': 0.15, 'fraud_rate': 0.0},
     {'low': 0.5, 'high': 1.0, 'count': 2, 'mean_score': 0.8, 'fraud_rate': 1.0}]
    """
    y, s = _arrays(y_true, scores)
    edges = np.linspace(0.0, 1.0, bins + 1)
    # The last bin is closed on the right, so a score of exactly 1 lands in it.
    index = np.clip(np.searchsorted(edges, s, side="right") - 1, 0, bins - 1)
    out = []
    for b in range(bins):
        mask = index == b
        n = int(mask.sum())
        out.append(
            {
                "low": round(float(edges[b]), 6),
                "high": round(float(edges[b + 1]), 6),
                "count": n,
                "mean_score": round(float(s[mask].mean()), 6) if n else None,
                "fraud_rate": round(float(y[mask].mean()), 6) if n else None,
            }
        )
    return out


def expected_calibration_error(bins: Sequence[dict[str, Any]]) -> float:
    """Count-weighted mean gap between score and fraud rate over :func:`reliability` bins.

    >>> expected_calibration_error(reliability([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9], bins=2))
    0.175
    """
    total = sum(b["count"] for b in bins)
    if not total:
        return math.nan
    gap = sum(b["count"] * abs(b["mean_score"] - b["fraud_rate"]) for b in bins if b["count"])
    return round(gap / total, 6)


def evaluate(
    y_true: ArrayLike,
    scores: ArrayLike,
    card_id: ArrayLike,
    ts_ms: ArrayLike,
    k: int = 100,
    precisions: Sequence[float] = (0.5, 0.8),
    recalls: Sequence[float] = (0.5, 0.8),
    bins: int = 10,
) -> dict[str, Any]:
    """Every measure above for one set of scores, as a JSON-ready dictionary.

    >>> m = evaluate([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8], ["a", "b", "c", "d"], [0, 0, 0, 0], k=2)
    >>> m["average_precision"], m["fraud_rate"], m["card_precision_at_k"]
    (1.0, 0.5, 1.0)
    """
    y, s = _arrays(y_true, scores)
    card_p, card_max = card_precision_at_k(y, s, card_id, ts_ms, k)
    curve = reliability(y, s, bins)
    return {
        "transactions": len(y),
        "frauds": int(y.sum()),
        "fraud_rate": round(float(y.mean()), 6) if len(y) else math.nan,
        "average_precision": round(average_precision(y, s), 6),
        "roc_auc": round(roc_auc(y, s), 6),
        "recall_at_precision": {str(p): operating_point(y, s, precision=p) for p in precisions},
        "precision_at_recall": {str(r): operating_point(y, s, recall=r) for r in recalls},
        "k": k,
        "card_precision_at_k": round(card_p, 6),
        "card_precision_at_k_ceiling": round(card_max, 6),
        "brier_score": round(brier_score(y, s), 8),
        "expected_calibration_error": expected_calibration_error(curve),
        "reliability": curve,
    }
