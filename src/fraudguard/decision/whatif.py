"""What a candidate set of tiers would have decided, beside the tiers in force, over scored
decisions: counts, alerts and review hours per day, precision and recall where labels are known,
euro caught and missed, which payments change, per segment, and on the exploration sample.

The rule is the job's own (:meth:`ThresholdTiers.decide_columns`, proven equal to the row rule),
over columns, so a million stored decisions take a fraction of a second. Where a label is known,
**caught** means a fraud sent to review or block and a **false positive** a legitimate payment
sent to review or block. Exploration is not applied: it is a capped release on top of whichever
tiers are in force.

>>> from fraudguard.wire.transactions import Transaction
>>> def txn(i: int) -> Transaction:
...     return Transaction(f"t{i}", "2026-11-23T10:00:00Z", 0, "c1", "u1", "m1", "m1-t1",
...                        10.0, "EUR", "5411", "FR", "online", None)
>>> rows = [(0.9, txn(1), None, "fraud"), (0.6, txn(2), None, "legit"),
...         (0.3, txn(3), None, "fraud"), (0.1, txn(4), None, None)]
>>> result = what_if(rows, candidate=ThresholdTiers("strict", 0.2, 0.7), current=BUILTIN_TIERS)
>>> result.current.decisions, result.candidate.decisions
({'approve': 2, 'review': 1, 'block': 1}, {'approve': 1, 'review': 2, 'block': 1})
>>> result.current.fraud_caught, result.candidate.fraud_caught, result.candidate.false_positives
(1, 2, 1)
>>> result.changed
{'approve->review': 1}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fraudguard.decision.tiers import (  # noqa: F401 - BUILTIN_TIERS: doctest
    AMOUNT_FEATURE,
    BUILTIN_TIERS,
    DECISION_CODES,
    ThresholdTiers,
)
from fraudguard.errors import ConfigError
from fraudguard.wire.currency import to_eur
from fraudguard.wire.transactions import Transaction

Label = str | bool | None
Row = tuple[float, Transaction, Mapping[str, float] | None, Label]

DECISIONS = DECISION_CODES
DAY_MS = 86_400_000
UNKNOWN, LEGIT, FRAUD = -1, 0, 1
"""Label codes of :attr:`ScoredColumns.label`."""


@dataclass
class ScoredColumns:
    """Scored decisions as columns: what a what-if needs of each, nothing more."""

    score: np.ndarray
    mcc: np.ndarray
    channel: np.ndarray
    amount_eur: np.ndarray
    label: np.ndarray
    """-1 unknown, 0 legitimate, 1 fraud (int8)."""
    event_ms: np.ndarray | None = None
    explored: np.ndarray | None = None
    propensity: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.label)

    def take(self, rows: np.ndarray, only: tuple[str, ...] | None = None) -> ScoredColumns:
        """The columns of ``rows`` (a mask or indices); with ``only``, just those columns are
        copied (the others are left empty), which is all :func:`outcome` needs of decided rows."""
        picked: dict[str, Any] = {
            name: None if v is None else v[rows] if only is None or name in only else v[:0]
            for name, v in self.__dict__.items()
        }
        return ScoredColumns(**picked)


@dataclass
class Outcome:
    """What one set of tiers decided over the rows (weighted counts on the exploration sample)."""

    version: str
    decisions: dict[str, float] = field(default_factory=lambda: dict.fromkeys(DECISIONS, 0))
    tiers: dict[str, float] = field(default_factory=dict)
    """Rows per tier name (``default`` or an override's name)."""
    fraud: float = 0
    """Rows labelled fraud."""
    fraud_caught: float = 0
    """Frauds sent to review or block."""
    fraud_blocked: float = 0
    legit: float = 0
    """Rows labelled legitimate."""
    false_positives: float = 0
    """Legitimate payments sent to review or block."""
    legit_blocked: float = 0
    euro_caught: float = 0.0
    """Euro of labelled fraud sent to review or block."""
    euro_missed: float = 0.0
    """Euro of labelled fraud approved."""

    @property
    def fraud_missed(self) -> float:
        return self.fraud - self.fraud_caught

    @property
    def alerts(self) -> float:
        return self.decisions["review"] + self.decisions["block"]

    @property
    def precision(self) -> float | None:
        """Of the labelled payments stopped, the share that was fraud."""
        stopped = self.fraud_caught + self.false_positives
        return self.fraud_caught / stopped if stopped else None

    @property
    def recall(self) -> float | None:
        """Of the labelled frauds, the share stopped."""
        return self.fraud_caught / self.fraud if self.fraud else None

    def to_dict(self) -> dict[str, object]:
        doc = {k: v for k, v in self.__dict__.items()}
        doc.update(fraud_missed=self.fraud_missed, alerts=self.alerts, precision=self.precision,
                   recall=self.recall)  # fmt: skip
        return doc


@dataclass
class WhatIf:
    """Both outcomes over the same rows, and how the decisions moved between them."""

    rows: int
    current: Outcome
    candidate: Outcome
    changed: dict[str, int]
    """Rows whose decision differs, by ``"from->to"`` (current to candidate)."""
    new_positives: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    """Row indices the candidate stops and the current tiers approve."""
    lost_positives: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    """Row indices the current tiers stop and the candidate approves."""
    unlabelled: int = 0
    decided: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    """Decision and tier codes of every row, ``"current"`` and ``"candidate"``."""

    def to_dict(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "current": self.current.to_dict(),
            "candidate": self.candidate.to_dict(),
            "changed": dict(self.changed),
            "new_positives": len(self.new_positives),
            "lost_positives": len(self.lost_positives),
            "unlabelled": self.unlabelled,
        }


def decide(columns: ScoredColumns, tiers: ThresholdTiers) -> tuple[np.ndarray, np.ndarray]:
    """Decision and tier codes of every row under ``tiers``."""
    return tiers.decide_columns(columns.score, columns.mcc, columns.channel, columns.amount_eur)


def outcome(
    columns: ScoredColumns,
    tiers: ThresholdTiers,
    decided: tuple[np.ndarray, np.ndarray] | None = None,
    weights: np.ndarray | None = None,
) -> Outcome:
    """The tallies of ``tiers`` over ``columns``; ``weights`` count rows unequally."""
    decided = decided if decided is not None else decide(columns, tiers)
    group = np.zeros(len(columns), dtype=np.int64)
    return outcomes_by_group(columns, tiers, decided, group, 1, weights)[0]


def outcomes_by_group(
    columns: ScoredColumns,
    tiers: ThresholdTiers,
    decided: tuple[np.ndarray, np.ndarray],
    group: np.ndarray,
    groups: int,
    weights: np.ndarray | None = None,
) -> list[Outcome]:
    """The tallies of ``tiers`` for each group of rows (``group`` holds each row's group in
    ``range(groups)``), in one pass over the rows whatever the number of groups."""
    decisions, tier = decided
    w = np.ones(len(columns)) if weights is None else weights
    names = tiers.tier_names()
    group = group.astype(np.int64)

    def by(codes: np.ndarray | None, kinds: int, mask: np.ndarray | None = None,
           values: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
        keys = group if codes is None else group * kinds + codes
        weight = w if values is None else w * values
        if mask is not None:
            keys, weight = keys[mask], weight[mask]
        return np.bincount(keys, weights=weight, minlength=groups * kinds).reshape(groups, kinds)

    stopped = decisions > 0
    fraud, legit = columns.label == FRAUD, columns.label == LEGIT
    per_decision = by(decisions.astype(np.int64), 3)
    per_tier = by(tier.astype(np.int64), len(names))
    fraud_by = by(decisions.astype(np.int64), 3, fraud)
    legit_by = by(decisions.astype(np.int64), 3, legit)
    euro_by = by(stopped.astype(np.int64), 2, fraud, columns.amount_eur)
    results = []
    for g in range(groups):
        result = Outcome(tiers.version)
        result.decisions = {name: _num(per_decision[g, i]) for i, name in enumerate(DECISIONS)}
        result.tiers = {names[i]: _num(n) for i, n in enumerate(per_tier[g]) if n}
        result.fraud = _num(fraud_by[g].sum())
        result.fraud_caught = _num(fraud_by[g, 1:].sum())
        result.fraud_blocked = _num(fraud_by[g, 2])
        result.legit = _num(legit_by[g].sum())
        result.false_positives = _num(legit_by[g, 1:].sum())
        result.legit_blocked = _num(legit_by[g, 2])
        result.euro_caught = round(float(euro_by[g, 1]), 2)
        result.euro_missed = round(float(euro_by[g, 0]), 2)
        results.append(result)
    return results


def compare(columns: ScoredColumns, candidate: ThresholdTiers, current: ThresholdTiers) -> WhatIf:
    """Both tiers over the same columns."""
    now, new = decide(columns, current), decide(columns, candidate)
    result = WhatIf(
        rows=len(columns),
        current=outcome(columns, current, now),
        candidate=outcome(columns, candidate, new),
        changed={},
        unlabelled=int((columns.label == UNKNOWN).sum()),
        decided={"current": now, "candidate": new},
    )
    moved = now[0] != new[0]
    if moved.any():
        pairs = now[0][moved].astype(np.int16) * 3 + new[0][moved]
        counts = np.bincount(pairs, minlength=9)
        result.changed = {
            f"{DECISIONS[i // 3]}->{DECISIONS[i % 3]}": int(n)
            for i, n in enumerate(counts) if n
        }  # fmt: skip
    result.new_positives = np.flatnonzero((now[0] == 0) & (new[0] > 0))
    result.lost_positives = np.flatnonzero((now[0] > 0) & (new[0] == 0))
    return result


def per_day(
    columns: ScoredColumns, decisions: np.ndarray, start_ms: int, days: int
) -> dict[str, list[int]]:
    """Alerts and reviews per UTC day from ``start_ms`` (needs ``event_ms``)."""
    if columns.event_ms is None:
        raise ConfigError("per-day figures need the event times")
    day = ((columns.event_ms - start_ms) // DAY_MS).clip(0, days - 1)
    alerts = np.bincount(day[decisions > 0], minlength=days)
    reviews = np.bincount(day[decisions == 1], minlength=days)
    return {"alerts": alerts.tolist(), "reviews": reviews.tolist()}


def columns_of(rows: Iterable[Row]) -> ScoredColumns:
    """Rows of ``(score, transaction, features, label)`` as columns; the amount band reads the
    ``txn_amount_eur`` feature when there is one, as the job does."""
    scores, mccs, channels, amounts, labels = [], [], [], [], []
    for index, (score, txn, features, label) in enumerate(rows):
        scores.append(score)
        mccs.append(txn.mcc)
        channels.append(txn.channel)
        amount = features.get(AMOUNT_FEATURE) if features is not None else None
        amounts.append(to_eur(txn.amount, txn.currency) if amount is None else amount)
        labels.append(_label_code(label, index))
    return ScoredColumns(
        score=np.array(scores, dtype=np.float64),
        mcc=np.array(mccs, dtype="<U4"),
        channel=np.array(channels, dtype="<U12"),
        amount_eur=np.array(amounts, dtype=np.float64),
        label=np.array(labels, dtype=np.int8),
    )


def what_if(rows: Iterable[Row], candidate: ThresholdTiers, current: ThresholdTiers) -> WhatIf:
    """:func:`compare` over rows of ``(score, transaction, features, label)``."""
    return compare(columns_of(rows), candidate, current)


def _label_code(label: Label, index: int) -> int:
    if label is None:
        return UNKNOWN
    if label is True or label == "fraud":
        return FRAUD
    if label is False or label == "legit":
        return LEGIT
    raise ConfigError(
        f"row {index}: label must be 'fraud', 'legit', a boolean or None, not {label!r}"
    )


def _num(value: float) -> float:
    """A count as an int when it is whole (unweighted), else rounded."""
    return int(value) if float(value).is_integer() else round(float(value), 3)
