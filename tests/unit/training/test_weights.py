"""The class-weight grid and how a weight is chosen."""

from __future__ import annotations

import math

import pytest

from fraudguard.errors import TrainingError
from fraudguard.training.weights import WeightTrial, choose, weight_grid


def test_grid_always_holds_1_and_the_data_ratios() -> None:
    grid = weight_grid(negatives=99_700, positives=300)
    assert grid[0] == 1.0 and grid == sorted(grid)
    assert round(math.sqrt(99_700 / 300), 2) in grid and round(99_700 / 300, 2) in grid
    assert {2.0, 5.0, 10.0, 25.0, 50.0, 100.0} <= set(grid)
    with pytest.raises(TrainingError, match="no fraud"):
        weight_grid(1000, 0)


def test_best_mean_wins_ties_go_to_the_smaller_weight_and_nan_folds_are_skipped() -> None:
    trials = [
        WeightTrial(1.0, [0.6, 0.6]),
        WeightTrial(5.0, [0.7, math.nan]),
        WeightTrial(10.0, [0.5, 0.9]),
    ]
    assert trials[1].mean_ap == pytest.approx(0.7)
    assert choose(trials).weight == 5.0
    assert choose([WeightTrial(25.0, [0.7]), WeightTrial(2.0, [0.7])]).weight == 2.0
    with pytest.raises(TrainingError, match="no prequential fold"):
        choose([WeightTrial(1.0, [math.nan])])
