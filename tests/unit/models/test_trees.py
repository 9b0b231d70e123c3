"""The job's scorer (``io.fraudguard.scoring``, run here through ``io.fraudguard.tools.ScoreRows``)
gives what the booster predicts for the registry's champion, with the model's feature order
mapped onto the job's, missing values included; a champion it cannot serve is refused with the
reason."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from fraudguard.config import Settings
from fraudguard.errors import StackError
from fraudguard.features.jvm import run_kernel_main
from fraudguard.models.metadata import ModelMetadata
from fraudguard.models.registry import TREES_FILE, ModelRegistry, serving_layout
from fraudguard.models.trees import compile_booster

MODEL_FEATURES = [f"f{i}" for i in range(12)]


def register(root: Path, booster: xgb.Booster, names: list[str], trees: bytes | None = None) -> str:
    registry = ModelRegistry(root)
    version = f"m{len(registry.entries())}"
    metadata = ModelMetadata(
        version=version, created_at="2026-11-26T00:00:00Z", framework="xgboost",
        feature_set_version="fs-test", feature_names=names, scale_pos_weight=1.0,
        code_version="test",
    )  # fmt: skip
    compiled = trees if trees is not None else compile_booster(booster)
    registry.register(b"model", metadata, attach=lambda d: (d / TREES_FILE).write_bytes(compiled))
    registry.promote(version, feature_set_version="fs-test")
    return version


def score_in_jvm(root: Path, tmp_path: Path, row_names: list[str], rows: np.ndarray) -> np.ndarray:
    names = tmp_path / "names.json"
    names.write_text(json.dumps(row_names))
    source, out = tmp_path / "rows.f64", tmp_path / "scores.f64"
    rows.astype("<f8").tofile(source)
    args = [str(root), json.dumps(serving_layout()), str(names), str(source), str(out)]
    got = run_kernel_main(Settings(), "io.fraudguard.tools.ScoreRows", args)
    assert got["rows"] == len(rows)
    return np.fromfile(out, dtype="<f8")


@pytest.mark.parametrize("depth", [1, 6])
def test_jvm_scores_equal_the_booster_with_the_job_feature_order(
    tmp_path: Path, depth: int
) -> None:
    rng = np.random.default_rng(depth)
    X = rng.normal(size=(3000, len(MODEL_FEATURES))).astype(np.float32)
    X[rng.random(X.shape) < 0.1] = np.nan
    y = np.nan_to_num(X[:, 0]) + 0.5 * np.nan_to_num(X[:, 3]) + rng.normal(size=3000) > 1.5
    params = {"nthread": 1, "objective": "binary:logistic", "max_depth": depth,
              "scale_pos_weight": 4.0}  # fmt: skip
    booster = xgb.train(params, xgb.DMatrix(X, label=y.astype(int)), num_boost_round=60)
    register(tmp_path / "models", booster, MODEL_FEATURES)
    # The job's rows: the model's features reversed, and two it does not use.
    job_names = ["extra_a", *reversed(MODEL_FEATURES), "extra_b"]
    rows = np.column_stack(
        [rng.normal(size=len(X)), X[:, ::-1].astype(np.float64), rng.normal(size=len(X))]
    )
    got = score_in_jvm(tmp_path / "models", tmp_path, job_names, rows)
    expected = booster.predict(xgb.DMatrix(X))
    assert len(set(np.round(expected, 4))) > 20  # a model whose scores vary
    assert np.abs(got - expected).max() < 1e-6


def test_a_champion_the_job_cannot_serve_is_refused_with_the_reason(tmp_path: Path) -> None:
    X = np.random.default_rng(0).normal(size=(200, 3)).astype(np.float32)
    booster = xgb.train({"objective": "binary:logistic"}, xgb.DMatrix(X, label=X[:, 0] > 0), 3)
    rows = np.zeros((4, 3))
    with pytest.raises(StackError, match="no champion in"):
        score_in_jvm(tmp_path / "empty", tmp_path, ["a", "b", "c"], rows)
    root = tmp_path / "models"
    register(root, booster, ["a", "b", "c"])
    with pytest.raises(StackError, match="needs feature c, which the job does not compute"):
        score_in_jvm(root, tmp_path, ["a", "b", "x"], rows)
    register(root, booster, ["a", "b", "c"], trees=b'{"format": "something-else"}')
    with pytest.raises(StackError, match="not a fraudguard-trees-1 document"):
        score_in_jvm(root, tmp_path, ["a", "b", "c"], rows)
    # the trees of three features, named as two
    register(root, booster, ["a", "b"], trees=compile_booster(booster))
    with pytest.raises(StackError, match="3 features in the trees, 2 names"):
        score_in_jvm(root, tmp_path, ["a", "b", "c"], rows)


def test_a_row_with_every_value_missing_takes_the_default_branches(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(500, 4)).astype(np.float32)
    X[rng.random(X.shape) < 0.5] = np.nan
    data = xgb.DMatrix(X, label=rng.random(500) < 0.3)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 4}, data, 20)
    names = ["a", "b", "c", "d"]
    register(tmp_path / "models", booster, names)
    nothing = np.full((1, 4), np.nan)
    got = score_in_jvm(tmp_path / "models", tmp_path, names, nothing)
    expected = float(booster.predict(xgb.DMatrix(nothing.astype(np.float32)))[0])
    assert abs(got[0] - expected) < 1e-6


def test_only_binary_logistic_boosters_compile() -> None:
    X = np.zeros((10, 2), dtype=np.float32)
    booster = xgb.train({"objective": "reg:squarederror"}, xgb.DMatrix(X, label=np.ones(10)), 1)
    with pytest.raises(ValueError, match="binary:logistic"):
        compile_booster(booster)
