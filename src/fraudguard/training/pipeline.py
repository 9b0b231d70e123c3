"""From a labelled table to a measured model: split by time, choose the class weight, train,
evaluate on the held-out period, and compare with resampling alternatives.

The saved model is the one measured: it learns from the training period and stops early on
the validation period; the test period is only ever scored.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xgboost as xgb
from sklearn.metrics import precision_recall_curve
from tqdm import tqdm

from fraudguard.errors import TrainingError
from fraudguard.monitoring import drift
from fraudguard.training import booster, imbalance, weights
from fraudguard.training.booster import BoosterParams
from fraudguard.training.data import LabelledTable
from fraudguard.training.metrics import evaluate
from fraudguard.training.split import TimeSplit, prequential_folds, split_at, split_by_share


@dataclass(frozen=True)
class TrainConfig:
    """How to split, which weights to try, what to compare and report."""

    validation: float = 0.2
    """Share of rows (by time) in the validation period, before the test period."""
    test: float = 0.2
    """Share of rows (the latest) held out for the test period."""
    validation_start_ms: int | None = None
    """With ``test_start_ms``: explicit period starts instead of shares."""
    test_start_ms: int | None = None
    folds: int = 3
    """Prequential folds over the training and validation periods."""
    weights: tuple[float, ...] | None = None
    """Class weights to try; ``None`` is :func:`~fraudguard.training.weights.weight_grid`."""
    compare: bool = True
    """Also run the imbalanced-learn alternatives and an unweighted XGBoost."""
    k: int = 100
    """Cards per day for card precision@k."""
    params: BoosterParams = field(default_factory=BoosterParams)

    def split(self, ts_ms: np.ndarray) -> TimeSplit:
        if self.validation_start_ms is not None and self.test_start_ms is not None:
            return split_at(ts_ms, self.validation_start_ms, self.test_start_ms)
        if (self.validation_start_ms is None) != (self.test_start_ms is None):
            raise TrainingError("give both the validation and the test start, or neither")
        return split_by_share(ts_ms, self.validation, self.test)


@dataclass
class TrainingResult:
    """The trained booster and everything measured about it."""

    booster: xgb.Booster
    weight: float
    trials: list[weights.WeightTrial]
    split: dict[str, dict[str, Any]]
    metrics: dict[str, dict[str, Any]]
    """``validation`` and ``test`` measures of the chosen model."""
    comparison: list[dict[str, Any]]
    """Test measures of each compared approach, the chosen model first."""
    curves: dict[str, tuple[np.ndarray, np.ndarray]]
    """Test precision and recall arrays per compared approach, for the PR plot."""
    data: dict[str, Any]
    config: TrainConfig
    seconds: dict[str, float]
    importance: dict[str, float]
    """Total gain per feature, largest first."""
    reference: dict[str, Any] = field(default_factory=dict)
    """The test period's score and top-feature distributions (``monitoring.drift.reference``)."""

    def report(self) -> dict[str, Any]:
        """Everything but the booster and the curves, JSON-ready."""
        return {
            "data": self.data,
            "split": self.split,
            "scale_pos_weight": self.weight,
            "weight_search": {
                "method": f"prequential, {self.config.folds} expanding folds over the training "
                "and validation periods; early stopping on the first half of each next block, "
                "average precision on its second half",
                "trials": [t.to_dict() for t in self.trials],
            },
            "params": self.config.params.to_dict(),
            "rounds": self.booster.num_boosted_rounds(),
            "metrics": self.metrics,
            "comparison": self.comparison,
            "feature_importance_gain": self.importance,
            "seconds": self.seconds,
        }


def _summary(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metrics.items() if k != "reliability"}


def _measured(
    runs: list[imbalance.AlternativeRun], test: LabelledTable, k: int
) -> tuple[list[dict[str, Any]], dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Test measures of each run, and its precision-recall curve for the plot."""
    comparison, curves = [], {}
    for run in runs:
        measured = evaluate(test.y, run.test_scores, test.card_id, test.ts_ms, k=k)
        comparison.append(
            {
                "name": run.name,
                "description": run.description,
                "train_rows": run.train_rows,
                "seconds": round(run.seconds, 3),
                "test": _summary(measured),
            }
        )
        if test.frauds:
            precision, recall, _ = precision_recall_curve(test.y, run.test_scores)
            curves[run.name] = (precision, recall)
    return comparison, curves


def train(data: LabelledTable, config: TrainConfig, progress: bool | None = None) -> TrainingResult:
    """Choose the weight, train the model, measure it and its alternatives.

    ``progress`` shows a bar on stderr: ``None`` shows it only on a terminal.
    """
    started = time.monotonic()
    params = config.params
    split = config.split(data.ts_ms)
    train_part, valid, test = (data.rows(s) for s in (split.train, split.validation, split.test))
    if train_part.frauds == 0 or valid.frauds == 0:
        raise TrainingError("the training or validation period has no fraud to learn from")
    # Weights are judged on the periods before the test period only.
    dev = data.rows(slice(0, split.validation.stop))
    folds = prequential_folds(dev.ts_ms, config.folds)
    grid = list(
        config.weights
        or weights.weight_grid(len(train_part) - train_part.frauds, train_part.frauds)
    )
    alternatives = list(imbalance.ALTERNATIVES) if config.compare else []
    steps = len(grid) * len(folds) + 1 + (len(alternatives) + 1 if config.compare else 0)
    seconds: dict[str, float] = {}
    disable = None if progress is None else not progress
    with tqdm(total=steps, desc="weights", unit="fit", disable=disable, leave=False) as bar:
        t0 = time.monotonic()
        trials = weights.search(dev, folds, grid, params, tick=bar.update)
        chosen = weights.choose(trials).weight
        seconds["weight_search"] = time.monotonic() - t0

        bar.set_description("final model")
        t0 = time.monotonic()
        names = data.feature_names
        train_matrix = booster.matrix(train_part.X, train_part.y, params, names=names)
        stop = booster.matrix(valid.X, valid.y, params, ref=train_matrix, names=names)
        model = booster.fit(train_matrix, params, chosen, stop_on=stop)
        seconds["final_model"] = time.monotonic() - t0
        bar.update()
        scores = {
            "validation": booster.predict(model, valid.X),
            "test": booster.predict(model, test.X),
        }
        runs = [
            imbalance.AlternativeRun(
                f"xgboost_weight_{chosen:g}",
                f"XGBoost, scale_pos_weight {chosen:g} (chosen)",
                len(train_part),
                seconds["final_model"],
                scores["test"],
            )
        ]
        if config.compare:
            t0 = time.monotonic()
            if chosen != 1.0:
                bar.set_description("unweighted")
                plain = booster.fit(train_matrix, params, 1.0, stop_on=stop)
                runs.append(
                    imbalance.AlternativeRun(
                        "xgboost_weight_1",
                        "XGBoost, scale_pos_weight 1 (no weighting)",
                        len(train_part),
                        time.monotonic() - t0,
                        booster.predict(plain, test.X),
                    )
                )
            bar.update()
            for name in alternatives:
                bar.set_description(name)
                runs.append(imbalance.run_alternative(name, data, split, params))
                bar.update()
            seconds["comparison"] = time.monotonic() - t0

    metrics = {
        name: evaluate(part.y, scores[name], part.card_id, part.ts_ms, k=config.k)
        for name, part in (("validation", valid), ("test", test))
    }
    comparison, curves = _measured(runs, test, config.k)
    # A tree booster gives one number per feature (lists are for linear boosters).
    gain = {
        k: float(v)
        for k, v in model.get_score(importance_type="total_gain").items()
        if isinstance(v, int | float)
    }
    seconds["total"] = time.monotonic() - started
    importance = {k: round(v, 3) for k, v in sorted(gain.items(), key=lambda kv: -kv[1])}
    return TrainingResult(
        booster=model,
        weight=chosen,
        trials=trials,
        split=split.describe(data.ts_ms, data.y),
        metrics=metrics,
        comparison=comparison,
        curves=curves,
        data={
            "rows": len(data),
            "frauds": data.frauds,
            "fraud_rate": round(data.fraud_rate, 6),
            "fingerprint": data.fingerprint(),
            "feature_set_version": data.feature_set_version,
            "features": len(data.feature_names),
        },
        config=config,
        seconds={k: round(v, 3) for k, v in seconds.items()},
        importance=importance,
        reference=drift.reference(scores["test"], test.X, data.feature_names, importance),
    )
