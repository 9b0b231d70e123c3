"""Training end to end on generated history: the weight search, the held-out measures, the
comparison, and a report a person and a machine can read."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from fraudguard.features import FEATURE_NAMES
from fraudguard.training.booster import BoosterParams
from fraudguard.training.data import LabelledTable
from fraudguard.training.imbalance import ALTERNATIVES
from fraudguard.training.pipeline import TrainConfig, TrainingResult, train
from fraudguard.training.report import markdown, report_dict
from fraudguard.training.weights import choose, weight_grid

FAST = BoosterParams(n_estimators=30, early_stopping_rounds=10)


@pytest.fixture(scope="module")
def result(history: LabelledTable) -> TrainingResult:
    return train(
        history, TrainConfig(folds=2, weights=(1.0, 10.0), compare=False, params=FAST), False
    )


def test_every_weight_is_tried_on_every_fold_and_the_best_is_chosen(
    result: TrainingResult,
) -> None:
    assert [t.weight for t in result.trials] == [1.0, 10.0]
    assert all(len(t.fold_ap) == 2 and not math.isnan(t.mean_ap) for t in result.trials)
    assert result.weight == choose(result.trials).weight


def test_the_model_learns_far_better_than_the_fraud_rate_on_the_held_out_period(
    result: TrainingResult,
) -> None:
    test = result.metrics["test"]
    assert test["frauds"] > 30
    assert test["average_precision"] > 10 * test["fraud_rate"]
    assert test["roc_auc"] > 0.9
    assert 0 <= test["card_precision_at_k"] <= test["card_precision_at_k_ceiling"] <= 1
    assert result.booster.feature_names == list(FEATURE_NAMES)
    assert result.booster.num_boosted_rounds() <= FAST.n_estimators


def test_periods_follow_each_other_in_time(result: TrainingResult) -> None:
    train_, valid, test = (result.split[p] for p in ("train", "validation", "test"))
    assert train_["last"] <= valid["first"] <= valid["last"] <= test["first"]
    assert train_["rows"] + valid["rows"] + test["rows"] == result.data["rows"]


def test_the_report_is_strict_json_and_markdown(result: TrainingResult) -> None:
    header = {"version": "xgb-test", "created_at": "2026-11-25T00:00:00Z", "code_version": "x"}
    report = report_dict(result, header)
    json.dumps(report, allow_nan=False)
    text = markdown(report)
    assert "| **" in text and "## Comparison on the test period" in text
    assert f"fraud rate {result.metrics['test']['fraud_rate']:.3%}" in text


def test_the_default_grid_and_the_resampling_alternatives(history: LabelledTable) -> None:
    # A shorter history keeps nine weights and four comparisons within seconds.
    part = history.rows(slice(0, 30_000))
    quick = BoosterParams(n_estimators=10, early_stopping_rounds=5)
    result = train(part, TrainConfig(folds=1, compare=True, params=quick), progress=False)
    train_y = part.y[: result.split["train"]["rows"]]
    grid = weight_grid(int((train_y == 0).sum()), int(train_y.sum()))
    assert [t.weight for t in result.trials] == grid
    names = [row["name"] for row in result.comparison]
    assert names[0] == f"xgboost_weight_{result.weight:g}"
    assert set(ALTERNATIVES) <= set(names)
    for row in result.comparison:
        assert row["test"]["average_precision"] > row["test"]["fraud_rate"]
    assert set(result.curves) == set(names)
    precision, recall = result.curves[names[0]]
    assert np.all(np.diff(recall) <= 0)
