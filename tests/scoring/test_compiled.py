"""Compiled trees score exactly what the booster predicts, missing values included."""

from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb

from fraudguard.scoring.compiled import CompiledTrees, compile_booster


@pytest.mark.parametrize("depth", [1, 3, 6])
def test_compiled_trees_equal_the_booster(depth: int) -> None:
    rng = np.random.default_rng(depth)
    X = rng.normal(size=(3000, 12)).astype(np.float32)
    X[rng.random(X.shape) < 0.1] = np.nan
    y = np.nan_to_num(X[:, 0]) + 0.5 * np.nan_to_num(X[:, 3]) + rng.normal(size=3000) > 1.5
    params = {"nthread": 1, "objective": "binary:logistic", "max_depth": depth,
              "scale_pos_weight": 4.0}  # fmt: skip
    booster = xgb.train(params, xgb.DMatrix(X, label=y.astype(int)), num_boost_round=60)
    compiled = CompiledTrees.from_json(compile_booster(booster))
    expected = booster.predict(xgb.DMatrix(X))
    got = np.array(compiled.predict(X))
    assert np.abs(got - expected).max() < 1e-6
    one_by_one = np.array([compiled.predict_one(row) for row in X.tolist()])
    assert np.abs(one_by_one - expected).max() < 1e-6


def test_one_row_scoring_takes_the_default_branch_for_missing_values() -> None:
    # Every value missing: each tree follows its default directions down to one leaf.
    rng = np.random.default_rng(5)
    X = rng.normal(size=(500, 4)).astype(np.float32)
    X[rng.random(X.shape) < 0.5] = np.nan
    data = xgb.DMatrix(X, label=rng.random(500) < 0.3)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 4}, data, 20)
    compiled = CompiledTrees.from_json(compile_booster(booster))
    nothing = np.full((1, 4), np.nan, dtype=np.float32)
    expected = float(booster.predict(xgb.DMatrix(nothing))[0])
    assert abs(compiled.predict_one([float("nan")] * 4) - expected) < 1e-6
    with pytest.raises(ValueError, match="4 features"):
        compiled.predict_one([1.0])


def test_only_binary_logistic_compiles() -> None:
    X = np.zeros((10, 2), dtype=np.float32)
    booster = xgb.train({"objective": "reg:squarederror"}, xgb.DMatrix(X, label=np.ones(10)), 1)
    with pytest.raises(ValueError, match="binary:logistic"):
        compile_booster(booster)


def test_rows_of_the_wrong_width_are_refused() -> None:
    X = np.random.default_rng(0).normal(size=(50, 3)).astype(np.float32)
    booster = xgb.train({"objective": "binary:logistic"}, xgb.DMatrix(X, label=X[:, 0] > 0), 2)
    with pytest.raises(ValueError, match="3 features"):
        CompiledTrees.from_json(compile_booster(booster)).predict([[1.0, 2.0]])
