"""The batched predictor scores exactly what the booster predicts on the same features."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from fraudguard.errors import ModelError
from fraudguard.features import FEATURE_NAMES
from fraudguard.models import ModelMetadata, ModelRegistry
from fraudguard.models.booster import XGBoostScorer
from fraudguard.training import booster
from fraudguard.training.booster import BoosterParams
from fraudguard.training.data import LabelledTable


@pytest.fixture(scope="module")
def trained(history: LabelledTable) -> xgb.Booster:
    params = BoosterParams(n_estimators=40)
    part = history.rows(slice(0, 40_000))
    return booster.fit(booster.matrix(part.X, part.y, params, names=FEATURE_NAMES), params, 10.0)


@pytest.fixture(scope="module")
def registered(trained: xgb.Booster, tmp_path_factory: pytest.TempPathFactory) -> Path:
    registry = ModelRegistry(tmp_path_factory.mktemp("models"))
    entry = registry.register(
        bytes(trained.save_raw("ubj")),
        ModelMetadata(
            version="xgb-test",
            created_at="2026-11-25T00:00:00Z",
            framework=f"xgboost {xgb.__version__}",
            feature_set_version="fs-x",
            feature_names=list(FEATURE_NAMES),
            scale_pos_weight=10.0,
            code_version="test",
        ),
    )
    return entry.path


def test_batch_scores_equal_the_boosters_own_predictions(
    trained: xgb.Booster, registered: Path, history: LabelledTable
) -> None:
    model = XGBoostScorer.load(registered)
    assert model.version == "xgb-test" and model.feature_names == FEATURE_NAMES
    held_out = history.X[40_000:45_000]
    expected = trained.predict(
        xgb.DMatrix(held_out.astype(np.float64), feature_names=list(FEATURE_NAMES))
    )
    rows = held_out.astype(np.float64).tolist()  # what the job has: Python floats
    got = np.concatenate([model.predict_batch(rows[i : i + 64]) for i in range(0, len(rows), 64)])
    assert np.array_equal(got.astype(np.float32), expected)  # bitwise
    assert np.max(np.abs(got - expected)) <= 1e-7
    assert model.predict_one(rows[7]) == got[7]
    frauds = history.y[40_000:45_000] == 1
    assert got[frauds].mean() > 10 * got[~frauds].mean()  # a real model, not a constant


def test_a_bare_model_file_loads_too(
    trained: xgb.Booster, tmp_path: Path, history: LabelledTable
) -> None:
    rows = history.X[:50].tolist()
    reference = XGBoostScorer(trained, "ref", FEATURE_NAMES).predict_batch(rows)
    for suffix in ("ubj", "json"):
        trained.save_model(tmp_path / f"m.{suffix}")
        model = XGBoostScorer.load(tmp_path / f"m.{suffix}")
        assert model.version == "m" and model.feature_names == FEATURE_NAMES
        assert model.predict_batch(rows) == reference


def test_rows_follow_the_models_feature_order(registered: Path) -> None:
    model = XGBoostScorer.load(registered)
    features = {name: float(i) for i, name in enumerate(reversed(FEATURE_NAMES))}
    row = model.row(features)
    assert row == [features[name] for name in FEATURE_NAMES]
    del features[FEATURE_NAMES[3]]
    with pytest.raises(ModelError, match=FEATURE_NAMES[3]):
        model.row(features)


def test_bad_input_and_bad_files_are_model_errors(registered: Path, tmp_path: Path) -> None:
    model = XGBoostScorer.load(registered)
    assert model.predict_batch([]) == []
    with pytest.raises(ModelError, match=f"{len(FEATURE_NAMES)} features"):
        model.predict_batch([[1.0, 2.0]])
    (tmp_path / "junk.ubj").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="cannot load"):
        XGBoostScorer.load(tmp_path / "junk.ubj")
    with pytest.raises(ModelError, match="cannot load"):
        XGBoostScorer.load(tmp_path)  # a folder without metadata.json


def test_contributions_name_every_feature_and_sum_to_the_scores_logit(
    registered: Path, history: LabelledTable
) -> None:
    model = XGBoostScorer.load(registered)
    for row in history.X[40_000:40_200:20].astype(np.float64):
        features = dict(zip(FEATURE_NAMES, row.tolist(), strict=True))
        why = model.contributions(features)
        assert sorted(name for name, _ in why.by_feature) == sorted(FEATURE_NAMES)
        magnitudes = [abs(v) for _, v in why.by_feature]
        assert magnitudes == sorted(magnitudes, reverse=True)
        score = model.predict_one(model.row(features))
        assert abs(why.logit - np.log(score / (1 - score))) < 1e-4
    partial = model.contributions({FEATURE_NAMES[0]: 1.0})  # the rest missing, as the job does
    score = model.predict_one([1.0] + [np.nan] * (len(FEATURE_NAMES) - 1))
    assert abs(partial.logit - np.log(score / (1 - score))) < 1e-4
