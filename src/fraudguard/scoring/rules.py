"""The rule-based score: the documented fallback when no model can be loaded or scoring fails.

It uses only the transaction itself (and features when present), so it always answers.

>>> RuleBasedScorer().score_one(20.0, "card_present", {})
0.02
>>> RuleBasedScorer().score_one(4000.0, "online", {})
0.65
"""

from __future__ import annotations

from collections.abc import Mapping


class RuleBasedScorer:
    """Points for large amounts and card-not-present payments, capped at 1.

    Deliberately simple and stable: its job is to keep decisions flowing and conservative
    while the model path is down, not to compete with the model.
    """

    version = "rules-v1"

    def score_one(self, amount: float, channel: str, features: Mapping[str, float]) -> float:
        score = 0.02
        if amount >= 1000:
            score += 0.4
        elif amount >= 300:
            score += 0.15
        if channel == "online":
            score += 0.23
        return round(min(score, 1.0), 4)
