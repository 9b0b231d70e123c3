"""Helpers the job tests share: a small registered model the job can score with."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from fraudguard.features import FEATURE_NAMES, FEATURE_SET_VERSION
from fraudguard.models.metadata import ModelMetadata
from fraudguard.models.registry import TREES_FILE, ModelRegistry

RegisterModel = Callable[[ModelRegistry, str, int], None]


def _register_model(registry: ModelRegistry, version: str, seed: int) -> None:
    """Register a 5-tree model trained on random features (scores vary with the seed)."""
    import xgboost as xgb

    from fraudguard.scoring.compiled import compile_booster

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(400, len(FEATURE_NAMES))).astype(np.float32)
    y = (X[:, seed % len(FEATURE_NAMES)] > 1).astype(int)
    booster = xgb.train({"nthread": 1, "objective": "binary:logistic", "max_depth": 3},
                        xgb.DMatrix(X, label=y, feature_names=list(FEATURE_NAMES)), 5)  # fmt: skip
    metadata = ModelMetadata(
        version=version, created_at="2026-11-25T00:00:00Z", framework=f"xgboost {xgb.__version__}",
        feature_set_version=FEATURE_SET_VERSION, feature_names=list(FEATURE_NAMES),
        scale_pos_weight=1.0, code_version="test",
    )  # fmt: skip
    trees = compile_booster(booster)  # what the job scores with
    registry.register(
        bytes(booster.save_raw("ubj")),
        metadata,
        attach=lambda d: (d / TREES_FILE).write_bytes(trees),
    )


@pytest.fixture
def register_model() -> RegisterModel:
    return _register_model
