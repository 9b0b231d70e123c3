"""Resampling alternatives to class weighting, run on the same time split for comparison.

Each alternative learns from the training period (resampled as imbalanced-learn does it) and
scores the test period, so its numbers sit beside the weighted model's. The XGBoost-based ones
stop early on the untouched validation period, like the weighted model.

>>> sorted(ALTERNATIVES)
['balanced_bagging', 'random_undersampling', 'smote']
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from fraudguard.training import booster
from fraudguard.training.booster import BoosterParams
from fraudguard.training.data import LabelledTable
from fraudguard.training.split import TimeSplit

ALTERNATIVES: dict[str, str] = {
    "random_undersampling": "RandomUnderSampler (1:1) + XGBoost, weight 1",
    "smote": "SMOTE (k=5, 1:1) + XGBoost, weight 1",
    "balanced_bagging": "BalancedBaggingClassifier: 50 decision trees, each on a 1:1 undersample",
}
"""Name and description of every alternative, in the order they run."""


@dataclass(frozen=True)
class AlternativeRun:
    """What one alternative learnt from and its scores on the test period."""

    name: str
    description: str
    train_rows: int
    seconds: float
    test_scores: np.ndarray


class _Sampler(Protocol):
    def fit_resample(self, X: np.ndarray, y: np.ndarray) -> tuple[Any, Any]: ...


def _resampled_xgb(
    sampler: _Sampler, data: LabelledTable, split: TimeSplit, params: BoosterParams
) -> tuple[np.ndarray, int]:
    X, y = sampler.fit_resample(data.X[split.train], data.y[split.train])
    train = booster.matrix(np.asarray(X, dtype=np.float32), np.asarray(y), params)
    valid = data.rows(split.validation)
    stop = booster.matrix(valid.X, valid.y, params, ref=train)
    model = booster.fit(train, params, 1.0, stop_on=stop)
    return booster.predict(model, data.X[split.test]), len(y)


def _undersampling(
    data: LabelledTable, split: TimeSplit, params: BoosterParams
) -> tuple[np.ndarray, int]:
    from imblearn.under_sampling import RandomUnderSampler

    return _resampled_xgb(RandomUnderSampler(random_state=params.seed), data, split, params)


def _smote(data: LabelledTable, split: TimeSplit, params: BoosterParams) -> tuple[np.ndarray, int]:
    from imblearn.over_sampling import SMOTE

    frauds = int(data.y[split.train].sum())
    # SMOTE interpolates between a fraud and its neighbours; with very few frauds use fewer.
    sampler = SMOTE(k_neighbors=max(1, min(5, frauds - 1)), random_state=params.seed)
    return _resampled_xgb(sampler, data, split, params)


def _balanced_bagging(
    data: LabelledTable, split: TimeSplit, params: BoosterParams
) -> tuple[np.ndarray, int]:
    from imblearn.ensemble import BalancedBaggingClassifier
    from sklearn.tree import DecisionTreeClassifier

    model = BalancedBaggingClassifier(
        estimator=DecisionTreeClassifier(random_state=params.seed),
        n_estimators=50,
        # Each tree learns from a few hundred rows: worker processes would cost more than they save.
        n_jobs=1,
        random_state=params.seed,
    )
    model.fit(data.X[split.train], data.y[split.train])
    bag = 2 * int(data.y[split.train].sum())
    return np.asarray(model.predict_proba(data.X[split.test])[:, 1], dtype=np.float64), bag


_RUNNERS: dict[str, Callable[[LabelledTable, TimeSplit, BoosterParams], tuple[np.ndarray, int]]] = {
    "random_undersampling": _undersampling,
    "smote": _smote,
    "balanced_bagging": _balanced_bagging,
}


def run_alternative(
    name: str, data: LabelledTable, split: TimeSplit, params: BoosterParams
) -> AlternativeRun:
    """Train the named alternative on ``split.train`` and score ``split.test``."""
    started = time.monotonic()
    scores, rows = _RUNNERS[name](data, split, params)
    return AlternativeRun(name, ALTERNATIVES[name], rows, time.monotonic() - started, scores)
