"""Does the re-ranker help? A replay with labels arriving late, as they do in production.

Decisions are replayed in time order. Labels reach the re-ranker only once they are known
(``label_at_ms``), in polls every ``poll_ms`` of stream time, through the guarded
``learn_batch``. Every decision from ``holdout_from_ms`` on is scored, at its decision time, by
the base model and by the re-ranker as it stands then (it keeps learning during the tail, but
only from labels that were known before each decision). The report compares the two on that
tail, whichever way it goes.

>>> from fraudguard.reranker.model import Reranker
>>> stream = [
...     LabelledDecision(t, p, {}, y, t + 10)
...     for t, p, y in [(0, 0.9, True), (1, 0.2, False), (20, 0.8, True), (21, 0.1, False)]
... ]
>>> report = evaluate_delayed(stream, Reranker(), holdout_from_ms=20, poll_ms=5)
>>> report.holdout_decisions, report.holdout_frauds, report.labels_learnt
(2, 1, 2)
>>> report.base_average_precision, report.rerank_average_precision
(1.0, 1.0)
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from fraudguard.errors import RerankerError
from fraudguard.reranker.model import Reranker, Row


@dataclass(frozen=True, slots=True)
class LabelledDecision:
    """One scored transaction with the truth about it and when that truth became known."""

    decided_at_ms: int
    base_prob: float
    features: Mapping[str, float]
    label: bool
    label_at_ms: int
    """When the label reaches the learner (never before the decision)."""


@dataclass(frozen=True)
class RerankerEvaluation:
    """Base model against re-ranker on the held-out tail."""

    holdout_from_ms: int
    holdout_decisions: int
    holdout_frauds: int
    fraud_rate: float
    base_average_precision: float
    rerank_average_precision: float
    base_log_loss: float
    rerank_log_loss: float
    labels_learnt: int
    """Labels in accepted batches (over the whole replay)."""
    labels_refused: int
    """Labels in batches the guard refused."""
    batches: int
    refused_batches: int
    final_version: str
    refusals: list[str] = field(default_factory=list)
    """The guard's reasons, for the first ten refused batches."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate_delayed(
    decisions: Sequence[LabelledDecision],
    reranker: Reranker,
    holdout_from_ms: int,
    poll_ms: int = 300_000,
) -> RerankerEvaluation:
    """Replay ``decisions`` (in decision-time order) through ``reranker``, learning from labels
    as they arrive; compare it with the base model on the decisions from ``holdout_from_ms``."""
    pending: list[tuple[int, int]] = []  # (label_at_ms, index): a heap of labels not yet known
    base, rerank, truth = [], [], []
    learnt = refused_labels = batches = refused = 0
    reasons: list[str] = []
    next_poll = None
    last = None
    for i, d in enumerate(decisions):
        if last is not None and d.decided_at_ms < last:
            raise RerankerError(f"decision {i} is out of time order")
        if d.label_at_ms < d.decided_at_ms:
            raise RerankerError(f"decision {i}: its label is known before the decision")
        last = d.decided_at_ms
        if next_poll is None or d.decided_at_ms >= next_poll:
            batch: list[Row] = []
            while pending and pending[0][0] <= d.decided_at_ms:
                j = heapq.heappop(pending)[1]
                batch.append((decisions[j].base_prob, decisions[j].features, decisions[j].label))
            if batch:
                verdict = reranker.learn_batch(batch)
                batches += 1
                if verdict.accepted:
                    learnt += verdict.rows
                else:
                    refused += 1
                    refused_labels += verdict.rows
                    if len(reasons) < 10:
                        reasons.append(verdict.reason)
            next_poll = d.decided_at_ms - d.decided_at_ms % poll_ms + poll_ms
        if d.decided_at_ms >= holdout_from_ms:
            base.append(d.base_prob)
            rerank.append(reranker.score(d.base_prob, d.features))
            truth.append(d.label)
        heapq.heappush(pending, (d.label_at_ms, i))
    y = np.asarray(truth, dtype=float)
    return RerankerEvaluation(
        holdout_from_ms=holdout_from_ms,
        holdout_decisions=len(y),
        holdout_frauds=int(y.sum()),
        fraud_rate=float(y.mean()) if len(y) else float("nan"),
        base_average_precision=average_precision(y, np.asarray(base)),
        rerank_average_precision=average_precision(y, np.asarray(rerank)),
        base_log_loss=log_loss(y, np.asarray(base)),
        rerank_log_loss=log_loss(y, np.asarray(rerank)),
        labels_learnt=learnt,
        labels_refused=refused_labels,
        batches=batches,
        refused_batches=refused,
        final_version=reranker.version,
        refusals=reasons,
    )


def average_precision(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the precision-recall curve as a step function (scikit-learn's definition);
    NaN without a positive.

    >>> average_precision(np.array([1.0, 0, 1, 0]), np.array([0.9, 0.8, 0.7, 0.1]))
    0.8333333333333333
    """
    if not y.sum():
        return float("nan")
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(y, score))


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    """Mean log loss, probabilities kept within [1e-15, 1 - 1e-15]."""
    if not len(y):
        return float("nan")
    p = np.clip(p, 1e-15, 1 - 1e-15)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))
