"""The gates of the model lifecycle: when a shadow challenger may replace the champion, and when
a newly promoted champion must be rolled back. Pure functions over measured figures, so the
same rule serves ``fraudguard model compare``, the automatic governor and their tests.

**Promotion** needs all three: the challenger beats the champion on the *unbiased* sample (the
decisions exploration released, each weighted by 1 / propensity, whose labels exist whatever the
champion thought of them) by at least ``promotion_margin`` in average precision, with at least
``min_explored_labelled`` of them labelled; its scores are distributed like the champion's
(PSI within ``max_score_psi``: a model that shifts every score would move every tier); and it
costs no more than ``max_cost_ratio`` times the champion to score (tree nodes, which is what the
JVM walks per payment).

**Rollback** of a champion promoted less than ``watch_hours`` ago: its block or review rate
left the band ``[expected / rate_band_factor, expected * rate_band_factor]`` over at least
``min_decisions``, or more than ``max_degraded_share`` of its decisions were degraded.

>>> gates = GateSettings()
>>> fine = ModelComparison("m1", "m2", decisions=50_000, explored=400, explored_labelled=120,
...                        ap_champion_unbiased=0.40, ap_challenger_unbiased=0.46,
...                        score_psi=0.05, cost_champion=9_000, cost_challenger=9_500)
>>> promotion_verdict(fine, gates).allowed
True
>>> promotion_verdict(replace(fine, score_psi=0.6), gates).reasons
['score distribution moved: PSI 0.600 > 0.25']
>>> rollback_verdict(RateWindow(10_000, review=50, block=400, degraded=0),
...                  RateWindow(10_000, review=60, block=30, degraded=0), gates).reasons
['block rate 4.00% outside [0.15%, 0.60%] (expected 0.30%)']
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace  # noqa: F401 - replace: doctest
from typing import Any

import numpy as np
import orjson

from fraudguard.config import GateSettings
from fraudguard.monitoring.drift import distribution, psi
from fraudguard.training.metrics import average_precision


@dataclass(frozen=True)
class ModelComparison:
    """Champion and challenger, measured on the same decisions."""

    champion: str
    challenger: str
    decisions: int
    explored: int
    explored_labelled: int
    ap_champion_unbiased: float
    ap_challenger_unbiased: float
    score_psi: float
    cost_champion: int
    cost_challenger: int
    labelled: int = 0
    ap_champion_matured: float = math.nan
    ap_challenger_matured: float = math.nan

    def to_dict(self) -> dict[str, Any]:
        return {k: (None if isinstance(v, float) and math.isnan(v) else v)
                for k, v in self.__dict__.items()}  # fmt: skip


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reasons: list[str] = field(default_factory=list)
    """Why not (empty when allowed), or for a rollback, why it must happen."""


def promotion_verdict(c: ModelComparison, gates: GateSettings) -> Verdict:
    """Whether ``c.challenger`` may replace ``c.champion``, and every reason it may not."""
    reasons = []
    if c.explored_labelled < gates.min_explored_labelled:
        reasons.append(f"unbiased sample too small: {c.explored_labelled} labelled explored "
                       f"decisions < {gates.min_explored_labelled}")  # fmt: skip
    gain = c.ap_challenger_unbiased - c.ap_champion_unbiased
    if math.isnan(gain) or gain < gates.promotion_margin:
        reasons.append(
            f"no better on the unbiased sample: AP {c.ap_challenger_unbiased:.3f} vs "
            f"{c.ap_champion_unbiased:.3f} (needs +{gates.promotion_margin})"
        )
    if not c.score_psi <= gates.max_score_psi:
        reasons.append(f"score distribution moved: PSI {c.score_psi:.3f} > {gates.max_score_psi}")
    if c.cost_challenger > gates.max_cost_ratio * c.cost_champion:
        reasons.append(f"too costly to score: {c.cost_challenger:,} tree nodes > "
                       f"{gates.max_cost_ratio} x {c.cost_champion:,}")  # fmt: skip
    return Verdict(not reasons, reasons)


@dataclass(frozen=True)
class RateWindow:
    """Decisions of a period, by kind."""

    decisions: int
    review: int
    block: int
    degraded: int


def rollback_verdict(observed: RateWindow, expected: RateWindow, gates: GateSettings) -> Verdict:
    """Whether a newly promoted champion must go: ``allowed`` means roll back, with why."""
    if observed.decisions < gates.min_decisions:
        return Verdict(False)
    reasons = []
    for kind in ("block", "review"):
        want = getattr(expected, kind) / max(expected.decisions, 1)
        got = getattr(observed, kind) / observed.decisions
        low, high = want / gates.rate_band_factor, want * gates.rate_band_factor
        if want > 0 and not low <= got <= high:
            reasons.append(f"{kind} rate {got:.2%} outside [{low:.2%}, {high:.2%}] "
                           f"(expected {want:.2%})")  # fmt: skip
    degraded = observed.degraded / observed.decisions
    if degraded > gates.max_degraded_share:
        reasons.append(f"degraded decisions {degraded:.2%} > {gates.max_degraded_share:.2%}")
    return Verdict(bool(reasons), reasons)


def tree_nodes(trees_json: bytes) -> int:
    """What scoring one payment walks through, summed over the trees: their node counts."""
    return sum(len(tree["left"]) for tree in orjson.loads(trees_json)["trees"])


def weighted_average_precision(y: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> float:
    """Average precision with each row counted ``weights`` times (1 / propensity on the
    exploration sample, so it estimates the AP over every decision, not just those released).

    >>> weighted_average_precision(np.array([0, 1, 0, 1]), np.array([0.1, 0.9, 0.2, 0.8]),
    ...                            np.ones(4))
    1.0
    """
    if not (y == 1).any() or not (y == 0).any():
        return math.nan
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(y, scores, sample_weight=weights))


def compare_scores(
    champion: str,
    challenger: str,
    base: np.ndarray,
    shadow: np.ndarray,
    label: np.ndarray,
    explored: np.ndarray,
    propensity: np.ndarray,
    costs: tuple[int, int],
) -> ModelComparison:
    """Both models' scores of the same decisions, measured: ``label`` is 1 fraud, 0 legitimate,
    -1 unknown (at the cut-off); rows where the challenger did not score are left out."""
    scored = np.isfinite(shadow)
    base, shadow, label = base[scored], shadow[scored], label[scored]
    explored, propensity = explored[scored], propensity[scored]
    known = label >= 0
    sample = explored & known
    weights = 1.0 / np.clip(propensity[sample], 1e-6, 1.0)
    y = label[sample]
    return ModelComparison(
        champion=champion, challenger=challenger, decisions=int(scored.sum()),
        explored=int(explored.sum()), explored_labelled=int(sample.sum()),
        ap_champion_unbiased=weighted_average_precision(y, base[sample], weights),
        ap_challenger_unbiased=weighted_average_precision(y, shadow[sample], weights),
        score_psi=psi(distribution(base), shadow) if len(base) else math.nan,
        cost_champion=costs[0], cost_challenger=costs[1], labelled=int(known.sum()),
        ap_champion_matured=average_precision(label[known], base[known]),
        ap_challenger_matured=average_precision(label[known], shadow[known]),
    )  # fmt: skip
