"""From a transaction and its features to its decision record, with everything that made it.

>>> from fraudguard.wire.transactions import Transaction
>>> txn = Transaction("t1", "2026-11-23T10:00:00Z", 0, "c1", "u1", "m1", "m1-t1", 4000.0,
...                   "EUR", "5411", "FR", "online", "d1")
>>> record = Decider().decide(txn, {"card_count_1h": 1.0}, now_ms=7)
>>> record.decision, record.score, record.model_version, record.degraded, record.late
('review', 0.65, 'rules-v1', True, False)

A re-ranker snapshot re-scores what the model scored (here none is promoted, so the rules
answered, degraded, and the re-ranker, trained on a model's logit, stays out of it):

>>> from fraudguard.reranker.model import Reranker
>>> record = Decider().decide(txn, {}, now_ms=7, reranker=Reranker())
>>> record.reranker_version, record.base_score == record.score
('none', True)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from fraudguard.decision import BUILTIN_TIERS, ThresholdTiers
from fraudguard.decision.fallback import RulesFallback
from fraudguard.features.registry import FEATURE_SET_VERSION
from fraudguard.wire.decisions import DecisionRecord
from fraudguard.wire.transactions import Transaction

if TYPE_CHECKING:
    from fraudguard.reranker.model import Reranker

NO_RERANKER = "none"


class Decider:
    """Applies the re-ranker and the threshold tiers to a transaction's base score.

    The base score is the champion model's, made upstream (the job scores it in the JVM, see
    :mod:`fraudguard.decision.fallback`); without one the rule-based score answers and the
    decision is marked degraded.
    """

    def __init__(self, tiers: ThresholdTiers = BUILTIN_TIERS) -> None:
        self.tiers = tiers
        self.scorer = RulesFallback()

    def decide(
        self,
        txn: Transaction,
        features: Mapping[str, float],
        now_ms: int,
        late: bool = False,
        tiers: ThresholdTiers | None = None,
        reranker: Reranker | None = None,
        reranker_for: str | None = None,
        scored: tuple[float, str] | None = None,
        challenger: tuple[float, str] | None = None,
    ) -> DecisionRecord:
        """``tiers`` overrides the decider's own (the job passes the newest published ones);
        ``reranker`` re-scores the score of model ``reranker_for`` (None: of any model), never
        the rules' score: it learnt a model's logit. ``scored`` is the model's base score and
        version made upstream; without it the rules answer, degraded. ``challenger`` (the
        shadow model's score and version) is recorded and decides nothing."""
        tiers = tiers or self.tiers
        if scored is not None:
            base, model_version, degraded = scored[0], scored[1], False
        else:
            base, model_version, degraded = self.scorer.score(txn.amount, txn.channel, features)
        score, reranker_version = base, NO_RERANKER
        if reranker is not None and not degraded and reranker_for in (None, model_version):
            score, reranker_version = reranker.score(base, features), reranker.version
        decision, tier = tiers.decide(score, txn, features)
        return DecisionRecord(
            txn_id=txn.txn_id,
            card_id=txn.card_id,
            event_time=txn.event_time,
            decision=decision,
            score=score,
            model_version=model_version,
            threshold_version=tiers.version,
            decided_at_ms=now_ms,
            features=features,
            feature_version=FEATURE_SET_VERSION,
            base_score=base,
            reranker_version=reranker_version,
            tier=tier,
            degraded=degraded,
            late=late,
            merchant_id=txn.merchant_id,
            terminal_id=txn.terminal_id,
            amount=txn.amount,
            currency=txn.currency,
            mcc=txn.mcc,
            country=txn.country,
            channel=txn.channel,
            challenger_version=challenger[1] if challenger is not None else None,
            challenger_score=challenger[0] if challenger is not None else None,
        )
