"""The decision record: which score the tiers saw, and which versions made it."""

from __future__ import annotations

from fraudguard.decision import ThresholdTiers
from fraudguard.decision.decider import NO_RERANKER, Decider
from fraudguard.decision.fallback import Scored
from fraudguard.reranker.model import Reranker
from fraudguard.wire.transactions import Transaction

TXN = Transaction("t1", "2026-11-23T10:00:00Z", 1_795_428_000_000, "c1", "u1", "m1", "m1-t1",
                  20.0, "EUR", "5411", "FR", "online", None)  # fmt: skip
TIERS = ThresholdTiers(version="t-1", review=0.4, block=0.9)


class FixedScorer:
    """A stand-in for the champion scorer (a unit test: the job test uses a real model)."""

    def __init__(self, score: float, degraded: bool = False) -> None:
        self.scored = Scored(score, "rules-v1" if degraded else "m-7", degraded)

    def score(self, *_: object) -> Scored:
        return self.scored


def trained_reranker() -> Reranker:
    reranker = Reranker()
    # Every mid-scored payment turns out fraud: the re-ranker learns to lift mid scores.
    reranker.learn_batch([(0.3, {}, True)] * 200)
    return reranker


def test_the_tiers_see_the_reranked_score_and_the_record_keeps_both() -> None:
    decider = Decider(TIERS)
    decider.scorer = FixedScorer(0.3)  # type: ignore[assignment]
    reranker = trained_reranker()
    lifted = reranker.score(0.3, {})
    assert lifted > 0.4  # the base alone approves; the re-ranked score reviews
    record = decider.decide(TXN, {}, now_ms=1, reranker=reranker)
    assert (record.base_score, record.score, record.decision) == (0.3, lifted, "review")
    assert (record.model_version, record.reranker_version) == ("m-7", reranker.version)
    assert record.threshold_version == "t-1"


def test_without_a_snapshot_or_with_the_rules_the_base_score_decides() -> None:
    decider = Decider(TIERS)
    decider.scorer = FixedScorer(0.3)  # type: ignore[assignment]
    record = decider.decide(TXN, {}, now_ms=1)
    assert (record.score, record.reranker_version, record.decision) == (0.3, NO_RERANKER, "approve")
    decider.scorer = FixedScorer(0.3, degraded=True)  # type: ignore[assignment]
    record = decider.decide(TXN, {}, now_ms=1, reranker=trained_reranker())
    assert (record.score, record.reranker_version, record.degraded) == (0.3, NO_RERANKER, True)


def test_a_snapshot_for_another_model_leaves_the_score_alone() -> None:
    decider = Decider(TIERS)
    decider.scorer = FixedScorer(0.3)  # type: ignore[assignment]
    reranker = trained_reranker()
    record = decider.decide(TXN, {}, now_ms=1, reranker=reranker, reranker_for="m-6")
    assert (record.score, record.reranker_version, record.decision) == (0.3, NO_RERANKER, "approve")
    record = decider.decide(TXN, {}, now_ms=1, reranker=reranker, reranker_for="m-7")
    assert record.reranker_version == reranker.version and record.score > 0.4


def test_the_record_carries_the_transaction_fields_the_tiers_segment_on() -> None:
    txn = Transaction("t1", "2026-11-23T10:00:00Z", 0, "c1", "u1", "m7", "m7-t1", 120.5,
                      "PLN", "7995", "PL", "online", None)  # fmt: skip
    record = Decider().decide(txn, {}, now_ms=7)
    fields = (record.merchant_id, record.terminal_id, record.amount, record.currency, record.mcc,
              record.country, record.channel)  # fmt: skip
    assert fields == ("m7", "m7-t1", 120.5, "PLN", "7995", "PL", "online")


def test_the_challenger_is_recorded_and_never_decides() -> None:
    from dataclasses import replace

    decider = Decider(TIERS)
    for base in (0.1, 0.5, 0.95):
        for shadow in (0.0, 0.5, 0.99):  # a challenger that would decide otherwise
            alone = decider.decide(TXN, {}, now_ms=1, scored=(base, "m-1"))
            beside = decider.decide(TXN, {}, now_ms=1, scored=(base, "m-1"),
                                    challenger=(shadow, "m-2"))  # fmt: skip
            assert (beside.challenger_score, beside.challenger_version) == (shadow, "m-2")
            assert replace(beside, challenger_score=None, challenger_version=None) == alone
    record = decider.decide(TXN, {}, now_ms=1, scored=(0.5, "m-1"))
    assert (record.challenger_score, record.challenger_version) == (None, None)
    assert b'"challenger_version":null,"challenger_score":null' in record.to_json()
