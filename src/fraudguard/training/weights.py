"""Choosing the weight of the fraud class by prequential validation.

Up-weighting the rare class is the usual reflex, but published results on card fraud found it
can lower average precision, so the grid always includes 1 (no weighting) and every weight
tried is reported. Each weight is judged on the same time-ordered folds; the one with the best
mean average precision wins, and a tie goes to the smaller weight.

>>> weight_grid(negatives=9_900, positives=100)
[1.0, 2.0, 5.0, 9.95, 10.0, 25.0, 50.0, 99.0, 100.0]
>>> trials = [WeightTrial(1.0, [0.5, 0.7]), WeightTrial(10.0, [0.6, 0.6])]
>>> choose(trials).weight
1.0
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fraudguard.errors import TrainingError
from fraudguard.training import booster
from fraudguard.training.booster import BoosterParams
from fraudguard.training.data import LabelledTable
from fraudguard.training.metrics import average_precision
from fraudguard.training.split import Fold

FIXED_GRID: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0)


def weight_grid(negatives: int, positives: int) -> list[float]:
    """:data:`FIXED_GRID` plus ``sqrt(neg/pos)`` and ``neg/pos`` (rounded to 2 decimals)."""
    if positives <= 0:
        raise TrainingError("no fraud in the training data: nothing to weight")
    ratio = negatives / positives
    return sorted({*FIXED_GRID, round(math.sqrt(ratio), 2), round(ratio, 2)})


@dataclass
class WeightTrial:
    """One weight's average precision on each fold (NaN where a fold has no fraud)."""

    weight: float
    fold_ap: list[float] = field(default_factory=list)
    best_rounds: list[int] = field(default_factory=list)

    @property
    def mean_ap(self) -> float:
        scored = [ap for ap in self.fold_ap if not math.isnan(ap)]
        return float(np.mean(scored)) if scored else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {
            "weight": self.weight,
            "mean_average_precision": round(self.mean_ap, 6),
            "fold_average_precision": [round(ap, 6) for ap in self.fold_ap],
            "rounds": self.best_rounds,
        }


def choose(trials: Sequence[WeightTrial]) -> WeightTrial:
    """The trial with the highest mean average precision; ties go to the smaller weight."""
    scored = [t for t in trials if not math.isnan(t.mean_ap)]
    if not scored:
        raise TrainingError("no prequential fold had fraud to score: too little data")
    return min(scored, key=lambda t: (-round(t.mean_ap, 9), t.weight))


def search(
    data: LabelledTable,
    folds: Sequence[Fold],
    weights: Sequence[float],
    params: BoosterParams,
    tick: Callable[[], None] = lambda: None,
) -> list[WeightTrial]:
    """Train every weight on every fold of ``data``; ``tick`` is called after each fit.

    Binned matrices are built once per fold and shared by all weights.
    """
    trials = [WeightTrial(float(w)) for w in weights]
    for fold in folds:
        train = booster.matrix(data.X[fold.train], data.y[fold.train], params)
        stop = booster.matrix(data.X[fold.stop], data.y[fold.stop], params, ref=train)
        X_score, y_score = data.X[fold.score], data.y[fold.score]
        for trial in trials:
            model = booster.fit(train, params, trial.weight, stop_on=stop)
            trial.fold_ap.append(average_precision(y_score, booster.predict(model, X_score)))
            trial.best_rounds.append(model.num_boosted_rounds())
            tick()
    return trials
