"""From a validated transaction to its decision record, with everything that made it.

>>> from fraudguard.schema import Transaction
>>> txn = Transaction("t1", "2026-11-23T10:00:00Z", 0, "c1", "u1", "m1", "m1-t1", 4000.0,
...                   "EUR", "5411", "FR", "online", "d1")
>>> record = CardDecider(ttl_ms=1000).decide(txn, now_ms=7)
>>> record.decision, record.score, record.model_version, record.degraded
('review', 0.65, 'rules-v1', True)
>>> CardDecider(ttl_ms=1000).decide(txn, now_ms=7, seen=SeenTransactions(1000)) is not None
True
"""

from __future__ import annotations

from fraudguard.dedupe import SeenTransactions
from fraudguard.schema import DecisionRecord, Transaction
from fraudguard.scoring.rules import RuleBasedScorer
from fraudguard.thresholds import BUILTIN_TIERS, ThresholdTiers


class CardDecider:
    """Decides one card's transactions in order; the card's keyed state is passed in.

    The scoring issue replaces the rule-based scorer with the model; until then every decision
    is marked degraded, because that is what the rule path is.
    """

    def __init__(self, ttl_ms: int, tiers: ThresholdTiers = BUILTIN_TIERS) -> None:
        self.ttl_ms = ttl_ms
        self.tiers = tiers
        self.scorer = RuleBasedScorer()

    def new_state(self) -> SeenTransactions:
        return SeenTransactions(self.ttl_ms)

    def decide(
        self, txn: Transaction, now_ms: int, seen: SeenTransactions | None = None
    ) -> DecisionRecord | None:
        """The decision for ``txn``, or None when ``seen`` already answered this id."""
        if seen is not None and not seen.first_time(txn.txn_id, txn.ts_ms):
            return None
        features: dict[str, float] = {}
        score = self.scorer.score_one(txn.amount, txn.channel, features)
        return DecisionRecord(
            txn_id=txn.txn_id,
            card_id=txn.card_id,
            event_time=txn.event_time,
            decision=self.tiers.decide(score),
            score=score,
            model_version=self.scorer.version,
            threshold_version=self.tiers.version,
            decided_at_ms=now_ms,
            features=features,
            degraded=True,
        )
