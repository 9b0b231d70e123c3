"""Fitting one class-weighted XGBoost model: the parameters and the call.

Defaults are chosen to train in seconds on two cores (histogram trees, a modest number of
rounds with early stopping) rather than to squeeze the last point of average precision.

>>> params = BoosterParams(n_estimators=20)
>>> params.xgb_params(scale_pos_weight=5.0)["scale_pos_weight"]
5.0
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import xgboost as xgb


@dataclass(frozen=True)
class BoosterParams:
    """Tree-booster settings; ``scale_pos_weight`` is chosen separately, per model."""

    n_estimators: int = 150
    """Most boosting rounds; early stopping usually ends sooner."""
    learning_rate: float = 0.2
    max_depth: int = 6
    min_child_weight: float = 1.0
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    max_bin: int = 256
    early_stopping_rounds: int = 20
    """Rounds without a better validation average precision before training stops."""
    nthread: int = 2
    seed: int = 0

    def xgb_params(self, scale_pos_weight: float) -> dict[str, Any]:
        return {
            "objective": "binary:logistic",
            "eval_metric": "aucpr",
            "tree_method": "hist",
            "learning_rate": self.learning_rate,
            "max_depth": self.max_depth,
            "min_child_weight": self.min_child_weight,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "max_bin": self.max_bin,
            "nthread": self.nthread,
            "seed": self.seed,
            "scale_pos_weight": float(scale_pos_weight),
        }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def matrix(
    X: np.ndarray,
    y: np.ndarray,
    params: BoosterParams,
    ref: xgb.QuantileDMatrix | None = None,
    names: Sequence[str] | None = None,
    weight: np.ndarray | None = None,
) -> xgb.QuantileDMatrix:
    """Binned training or evaluation data; bin edges come from ``ref`` when given, so a
    validation set is cut like the training set it belongs to. With ``names``, the model
    learnt from it carries its feature names. ``weight`` weights each row in the loss and in
    the evaluation metric (inverse propensities, :mod:`fraudguard.training.retrain`)."""
    return xgb.QuantileDMatrix(
        X,
        label=y,
        weight=weight,
        ref=ref,
        max_bin=params.max_bin,
        nthread=params.nthread,
        feature_names=list(names) if names is not None else None,
    )


def fit(
    train: xgb.QuantileDMatrix,
    params: BoosterParams,
    scale_pos_weight: float,
    stop_on: xgb.QuantileDMatrix | None = None,
) -> xgb.Booster:
    """A booster trained on ``train``; with ``stop_on``, cut to its best round on that set.

    The returned booster holds only the trees it predicts with, so what is saved is exactly
    what was measured.
    """
    booster = xgb.train(
        params.xgb_params(scale_pos_weight),
        train,
        num_boost_round=params.n_estimators,
        evals=[(stop_on, "stop")] if stop_on is not None else (),
        early_stopping_rounds=params.early_stopping_rounds if stop_on is not None else None,
        verbose_eval=False,
    )
    if stop_on is not None and booster.best_iteration + 1 < booster.num_boosted_rounds():
        booster = booster[: booster.best_iteration + 1]
    return booster


def predict(booster: xgb.Booster, X: np.ndarray) -> np.ndarray:
    """Fraud probabilities for the rows of ``X``."""
    return np.asarray(booster.inplace_predict(X), dtype=np.float64)
