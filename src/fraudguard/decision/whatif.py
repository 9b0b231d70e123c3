"""What a candidate set of tiers would have decided, beside the tiers in force.

Rows are already scored transactions (from the decision log, a replay or a held-out period):
``(score, transaction, features, label)``, the label ``"fraud"``, ``"legit"`` (or a boolean,
True for fraud) or ``None`` when unknown. Both tiers decide every row; where a label is known,
**caught** means a fraud sent to review or block and a **false positive** a legitimate
payment sent to review or block. Exploration is not applied: it is a capped release on top of
whichever tiers are in force.

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
from dataclasses import asdict, dataclass, field

from fraudguard.decision.tiers import BUILTIN_TIERS, ThresholdTiers  # noqa: F401 - doctest
from fraudguard.errors import ConfigError
from fraudguard.wire.transactions import Transaction

Label = str | bool | None
Row = tuple[float, Transaction, Mapping[str, float] | None, Label]

DECISIONS = ("approve", "review", "block")


@dataclass
class Outcome:
    """What one set of tiers decided over the rows."""

    version: str
    decisions: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DECISIONS, 0))
    tiers: dict[str, int] = field(default_factory=dict)
    """Rows per tier name (``default`` or an override's name)."""
    fraud: int = 0
    """Rows labelled fraud."""
    fraud_caught: int = 0
    """Frauds sent to review or block."""
    fraud_blocked: int = 0
    legit: int = 0
    """Rows labelled legitimate."""
    false_positives: int = 0
    """Legitimate payments sent to review or block."""
    legit_blocked: int = 0

    @property
    def fraud_missed(self) -> int:
        return self.fraud - self.fraud_caught

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "fraud_missed": self.fraud_missed}


@dataclass
class WhatIf:
    """Both outcomes over the same rows, and how the decisions moved between them."""

    rows: int
    current: Outcome
    candidate: Outcome
    changed: dict[str, int]
    """Rows whose decision differs, by ``"from->to"`` (current to candidate)."""

    def to_dict(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "current": self.current.to_dict(),
            "candidate": self.candidate.to_dict(),
            "changed": dict(self.changed),
        }


def what_if(rows: Iterable[Row], candidate: ThresholdTiers, current: ThresholdTiers) -> WhatIf:
    """Decide every row under both tiers (one pass: ``rows`` may be a generator)."""
    now, new = Outcome(current.version), Outcome(candidate.version)
    changed: dict[str, int] = {}
    count = 0
    for count, (score, txn, features, label) in enumerate(rows, start=1):
        is_fraud = _is_fraud(label, count - 1)
        before, _ = _tally(now, current, score, txn, features, is_fraud)
        after, _ = _tally(new, candidate, score, txn, features, is_fraud)
        if before != after:
            key = f"{before}->{after}"
            changed[key] = changed.get(key, 0) + 1
    return WhatIf(count, now, new, dict(sorted(changed.items())))


def _tally(
    outcome: Outcome,
    tiers: ThresholdTiers,
    score: float,
    txn: Transaction,
    features: Mapping[str, float] | None,
    is_fraud: bool | None,
) -> tuple[str, str]:
    decision, tier = tiers.decide(score, txn, features)
    outcome.decisions[decision] += 1
    outcome.tiers[tier] = outcome.tiers.get(tier, 0) + 1
    stopped = decision != "approve"
    if is_fraud is True:
        outcome.fraud += 1
        outcome.fraud_caught += stopped
        outcome.fraud_blocked += decision == "block"
    elif is_fraud is False:
        outcome.legit += 1
        outcome.false_positives += stopped
        outcome.legit_blocked += decision == "block"
    return decision, tier


def _is_fraud(label: Label, index: int) -> bool | None:
    if label is None or isinstance(label, bool):
        return label
    if label == "fraud":
        return True
    if label == "legit":
        return False
    raise ConfigError(
        f"row {index}: label must be 'fraud', 'legit', a boolean or None, not {label!r}"
    )
