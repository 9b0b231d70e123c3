"""The base score a decision starts from when no model gave one: the documented rules fallback.

The job follows the registry's champion and scores it in the JVM
(``io.fraudguard.scoring.ChampionModel``, inside ``PackForDecision``), which hands the score
and the model version to the decision with the features: ``fraudguard model promote`` and
``rollback`` reach decisions within about a second. A transaction that comes without one (no
champion, a champion that cannot be loaded, a scoring failure) is scored by
:class:`RuleBasedScorer` and the decision is marked degraded: a
transaction is never dropped for want of a model.

>>> RulesFallback().score(4000.0, "online", {})
Scored(score=0.65, model_version='rules-v1', degraded=True)
>>> RuleBasedScorer().score_one(20.0, "card_present", {})
0.02
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple


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


class Scored(NamedTuple):
    score: float
    model_version: str
    degraded: bool


class RulesFallback:
    """The score of a transaction no model scored: the rules, marked degraded."""

    def __init__(self) -> None:
        self.rules = RuleBasedScorer()

    def score(self, amount: float, channel: str, features: Mapping[str, float]) -> Scored:
        return Scored(self.rules.score_one(amount, channel, features), self.rules.version, True)
